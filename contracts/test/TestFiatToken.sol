// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title TestFiatToken
/// @notice Test-only stand-in for Polygon's native USDC that costs what it costs: the implementation
/// behind an ERC-1967 proxy (TestFiatTokenProxy), like Circle's FiatToken. Every transfer,
/// transferFrom, approve and permit reads the pause flag and the blacklist entry of each party
/// (msg.sender, sender, recipient or spender); transferFrom always writes the lowered allowance,
/// an unlimited one too. 6 decimals, EIP-2612 permit under the domain ("USD Coin", "2").
/// Mint is an open faucet (test token); pausing and blacklisting are the owner's.
/// @dev Circle's FiatTokenV2_2 keeps the blacklist flag in the top bit of the balance word, but its
/// proxy also reads an admin slot on every call and its 0.6 code spends more on checks. Here each
/// blacklist entry is a slot of its own (as in FiatToken up to V2_1): the extra cold reads stand in
/// for those costs, and the post and payout steps land within a few percent of the real token's.
contract TestFiatToken is IERC20Metadata, IERC20Permit, IERC20Errors, EIP712, Nonces, Initializable {
    bytes32 private constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    address public owner; // pauses and blacklists; set once by `initialize` through the proxy
    bool public paused; // shares a slot with `owner`, as Circle's flag shares one with its pauser
    mapping(address account => bool) public isBlacklisted; // read for every party of every transfer
    mapping(address account => uint256) private _balances;
    mapping(address holder => mapping(address spender => uint256)) private _allowances;
    uint256 private _totalSupply;

    /// @notice Emitted when `account` is put on or taken off the blacklist.
    event BlacklistChanged(address indexed account, bool listed);

    /// @notice Emitted when the owner pauses (`true`) or unpauses (`false`) the token.
    event PauseChanged(bool paused);

    /// @notice Thrown when a transfer, approval or permit touches a blacklisted `account`.
    error Blacklisted(address account);

    /// @notice Thrown when a transfer, approval, permit or mint is attempted while paused.
    error TokenPaused();

    /// @notice Thrown when `caller`, not the owner, tries to pause or blacklist.
    error NotOwner(address caller);

    /// @notice Thrown when a permit is used after its `deadline`.
    error PermitExpired(uint256 deadline);

    /// @notice Thrown when a permit's signature is not `holder`'s.
    error InvalidPermitSignature(address holder);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    modifier whenNotPaused() {
        if (paused) revert TokenPaused();
        _;
    }

    modifier notBlacklisted(address account) {
        if (isBlacklisted[account]) revert Blacklisted(account);
        _;
    }

    /// @dev The implementation itself is never initialized; only the proxy's storage is.
    constructor() EIP712("USD Coin", "2") {
        _disableInitializers();
    }

    /// @notice Sets the owner, who may pause and blacklist; called once, through the proxy.
    function initialize(address owner_) external initializer {
        owner = owner_;
    }

    /// @notice Mints `amount` to `to`; anyone may call (test token).
    function mint(address to, uint256 amount)
        external
        whenNotPaused
        notBlacklisted(msg.sender)
        notBlacklisted(to)
    {
        if (to == address(0)) revert ERC20InvalidReceiver(to);
        _totalSupply += amount;
        unchecked {
            _balances[to] += amount; // cannot overflow: bounded by the total supply
        }
        emit Transfer(address(0), to, amount);
    }

    /// @notice Puts `account` on or takes it off the blacklist. Owner only.
    function setBlacklisted(address account, bool listed) external onlyOwner {
        isBlacklisted[account] = listed;
        emit BlacklistChanged(account, listed);
    }

    /// @notice Stops every transfer, approval, permit and mint. Owner only.
    function pause() external onlyOwner {
        paused = true;
        emit PauseChanged(true);
    }

    /// @notice Lets transfers, approvals, permits and mints through again. Owner only.
    function unpause() external onlyOwner {
        paused = false;
        emit PauseChanged(false);
    }

    /// @inheritdoc IERC20
    function transfer(address to, uint256 value)
        external
        whenNotPaused
        notBlacklisted(msg.sender)
        notBlacklisted(to)
        returns (bool)
    {
        _transfer(msg.sender, to, value);
        return true;
    }

    /// @inheritdoc IERC20
    /// @dev The allowance is lowered even when it is type(uint256).max, as Circle's token does.
    function transferFrom(address from, address to, uint256 value)
        external
        whenNotPaused
        notBlacklisted(msg.sender)
        notBlacklisted(from)
        notBlacklisted(to)
        returns (bool)
    {
        uint256 allowed = _allowances[from][msg.sender];
        if (value > allowed) revert ERC20InsufficientAllowance(msg.sender, allowed, value);
        unchecked {
            _allowances[from][msg.sender] = allowed - value;
        }
        _transfer(from, to, value);
        return true;
    }

    /// @inheritdoc IERC20
    function approve(address spender, uint256 value)
        external
        whenNotPaused
        notBlacklisted(msg.sender)
        notBlacklisted(spender)
        returns (bool)
    {
        _approve(msg.sender, spender, value);
        return true;
    }

    /// @inheritdoc IERC20Permit
    /// @dev Accepts ERC-1271 signatures from contract holders, and a deadline of type(uint256).max.
    function permit(address holder, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        whenNotPaused
        notBlacklisted(holder)
        notBlacklisted(spender)
    {
        if (deadline < block.timestamp) revert PermitExpired(deadline);
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, holder, spender, value, _useNonce(holder), deadline));
        bytes32 digest = _hashTypedDataV4(structHash);
        if (!SignatureChecker.isValidSignatureNow(holder, digest, abi.encodePacked(r, s, v))) {
            revert InvalidPermitSignature(holder);
        }
        _approve(holder, spender, value);
    }

    /// @inheritdoc IERC20Metadata
    function name() external pure returns (string memory) {
        return "USD Coin";
    }

    /// @inheritdoc IERC20Metadata
    function symbol() external pure returns (string memory) {
        return "USDC";
    }

    /// @inheritdoc IERC20Metadata
    function decimals() external pure returns (uint8) {
        return 6;
    }

    /// @notice The EIP-712 domain version, "2" as on Circle's token.
    function version() external pure returns (string memory) {
        return "2";
    }

    /// @inheritdoc IERC20
    function totalSupply() external view returns (uint256) {
        return _totalSupply;
    }

    /// @inheritdoc IERC20
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    /// @inheritdoc IERC20
    function allowance(address holder, address spender) external view returns (uint256) {
        return _allowances[holder][spender];
    }

    /// @inheritdoc IERC20Permit
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IERC20Permit
    function nonces(address holder) public view override(IERC20Permit, Nonces) returns (uint256) {
        return super.nonces(holder);
    }

    function _transfer(address from, address to, uint256 value) private {
        if (to == address(0)) revert ERC20InvalidReceiver(to);
        uint256 fromBalance = _balances[from];
        if (value > fromBalance) revert ERC20InsufficientBalance(from, fromBalance, value);
        unchecked {
            _balances[from] = fromBalance - value;
            _balances[to] += value; // cannot overflow: bounded by the total supply
        }
        emit Transfer(from, to, value);
    }

    function _approve(address holder, address spender, uint256 value) private {
        if (spender == address(0)) revert ERC20InvalidSpender(spender);
        _allowances[holder][spender] = value;
        emit Approval(holder, spender, value);
    }
}
