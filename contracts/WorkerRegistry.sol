// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {
    IWorkerRegistry, Ineligibility, Requirements, WorkOutcome, WorkerProfile
} from "./interfaces/IWorkerRegistry.sol";

/// @title WorkerRegistry
/// @notice Profiles of the human specialists; see {IWorkerRegistry}. A worker's own changes can be
/// signed by the worker and sent by anyone (`registerFor`, `setAvailabilityFor`).
contract WorkerRegistry is IWorkerRegistry, AccessControl, EIP712, Nonces {
    /// @notice Role that grants and revokes certification bits.
    bytes32 public constant CERTIFIER_ROLE = keccak256("CERTIFIER_ROLE");

    bytes32 private constant REGISTRATION_TYPEHASH = keccak256(
        "Registration(address worker,uint64 languages,uint64 expertise,uint8 maxConcurrent,bytes32 encryptionKey,"
        "string profileURI,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant AVAILABILITY_TYPEHASH =
        keccak256("Availability(address worker,bool available,uint256 nonce,uint256 deadline)");

    /// @inheritdoc IWorkerRegistry
    address public immutable escrow;

    mapping(address worker => WorkerProfile) private _profiles;
    mapping(address worker => bytes32) private _encryptionKeys;

    modifier onlyEscrow() {
        if (msg.sender != escrow) revert CallerNotEscrow(msg.sender);
        _;
    }

    constructor(address escrow_, address admin) EIP712("EscalationWorkerRegistry", "1") {
        if (escrow_ == address(0) || admin == address(0)) revert InvalidWiring(escrow_, admin);
        escrow = escrow_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IWorkerRegistry
    function register(
        uint64 languages,
        uint64 expertise,
        uint8 maxConcurrent,
        bytes32 encryptionKey_,
        string calldata profileURI
    ) external {
        _register(msg.sender, languages, expertise, maxConcurrent, encryptionKey_, profileURI);
    }

    /// @inheritdoc IWorkerRegistry
    function registerFor(
        address worker,
        uint64 languages,
        uint64 expertise,
        uint8 maxConcurrent,
        bytes32 encryptionKey_,
        string calldata profileURI,
        uint256 deadline,
        bytes32[2] calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(
                REGISTRATION_TYPEHASH,
                worker,
                languages,
                expertise,
                maxConcurrent,
                encryptionKey_,
                keccak256(bytes(profileURI)),
                _useNonce(worker),
                deadline
            )
        );
        _requireSigner(worker, structHash, deadline, signature);
        _register(worker, languages, expertise, maxConcurrent, encryptionKey_, profileURI);
    }

    /// @inheritdoc IWorkerRegistry
    function setAvailability(bool available) external {
        _setAvailability(msg.sender, available);
    }

    /// @inheritdoc IWorkerRegistry
    function setAvailabilityFor(address worker, bool available, uint256 deadline, bytes32[2] calldata signature)
        external
    {
        bytes32 structHash =
            keccak256(abi.encode(AVAILABILITY_TYPEHASH, worker, available, _useNonce(worker), deadline));
        _requireSigner(worker, structHash, deadline, signature);
        _setAvailability(worker, available);
    }

    /// @inheritdoc IWorkerRegistry
    function grantCertifications(address worker, uint32 bits) external onlyRole(CERTIFIER_ROLE) {
        WorkerProfile storage p = _requireRegistered(worker);
        p.certifications |= bits;
        emit CertificationsChanged(worker, msg.sender, p.certifications);
    }

    /// @inheritdoc IWorkerRegistry
    function revokeCertifications(address worker, uint32 bits) external onlyRole(CERTIFIER_ROLE) {
        WorkerProfile storage p = _requireRegistered(worker);
        p.certifications &= ~bits;
        emit CertificationsChanged(worker, msg.sender, p.certifications);
    }

    /// @inheritdoc IWorkerRegistry
    function startJob(address worker, Requirements calldata req) external onlyEscrow {
        WorkerProfile storage p = _profiles[worker];
        Ineligibility reason = _eligibility(p, req);
        if (reason != Ineligibility.None) revert WorkerNotEligible(worker, reason);
        ++p.activeJobs; // cannot overflow: eligibility checked activeJobs < maxConcurrent
        _emitWork(worker, p);
    }

    /// @inheritdoc IWorkerRegistry
    function finishJob(address worker, WorkOutcome outcome) external onlyEscrow {
        WorkerProfile storage p = _profiles[worker];
        // Saturating: the escrow pairs every finish with a start, so this is belt and braces.
        if (p.activeJobs > 0) --p.activeJobs;
        if (outcome == WorkOutcome.Completed && p.completed < type(uint32).max) ++p.completed;
        if (outcome == WorkOutcome.MissedDeadline && p.missedDeadlines < type(uint16).max) ++p.missedDeadlines;
        _emitWork(worker, p);
    }

    /// @inheritdoc IWorkerRegistry
    function recordCompletion(address worker) external onlyEscrow {
        WorkerProfile storage p = _profiles[worker];
        if (p.completed < type(uint32).max) ++p.completed;
        _emitWork(worker, p);
    }

    /// @inheritdoc IWorkerRegistry
    function recordDisputeLost(address worker) external onlyEscrow {
        WorkerProfile storage p = _profiles[worker];
        if (p.disputesLost < type(uint16).max) ++p.disputesLost;
        _emitWork(worker, p);
    }

    /// @inheritdoc IWorkerRegistry
    function profile(address worker) external view returns (WorkerProfile memory) {
        return _profiles[worker];
    }

    /// @inheritdoc IWorkerRegistry
    function encryptionKey(address worker) external view returns (bytes32) {
        return _encryptionKeys[worker];
    }

    /// @inheritdoc IWorkerRegistry
    function eligibility(address worker, Requirements calldata req) external view returns (Ineligibility) {
        return _eligibility(_profiles[worker], req);
    }

    /// @inheritdoc IWorkerRegistry
    function nonces(address worker) public view override(IWorkerRegistry, Nonces) returns (uint256) {
        return super.nonces(worker);
    }

    /// @inheritdoc IWorkerRegistry
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _register(
        address worker,
        uint64 languages,
        uint64 expertise,
        uint8 maxConcurrent,
        bytes32 encryptionKey_,
        string calldata profileURI
    ) private {
        if (languages == 0 || maxConcurrent == 0 || encryptionKey_ == bytes32(0)) {
            revert InvalidProfile(languages, maxConcurrent, encryptionKey_);
        }
        WorkerProfile storage p = _profiles[worker];
        bool isNew = p.maxConcurrent == 0;
        p.languages = languages;
        p.expertise = expertise;
        p.maxConcurrent = maxConcurrent;
        if (isNew) p.available = true;
        _encryptionKeys[worker] = encryptionKey_;
        emit WorkerRegistered(worker, languages, expertise, maxConcurrent, encryptionKey_, profileURI);
        if (isNew) emit AvailabilityChanged(worker, true);
    }

    function _setAvailability(address worker, bool available) private {
        WorkerProfile storage p = _requireRegistered(worker);
        p.available = available;
        emit AvailabilityChanged(worker, available);
    }

    /// @dev `worker` signed `structHash` under this registry's domain and `deadline` has not passed.
    /// OpenZeppelin's ECDSA refuses malleable (high-s) signatures and those recovering no one.
    function _requireSigner(address worker, bytes32 structHash, uint256 deadline, bytes32[2] calldata signature)
        private
        view
    {
        if (block.timestamp > deadline) revert SignatureExpired(worker, deadline);
        address signer = ECDSA.recover(_hashTypedDataV4(structHash), signature[0], signature[1]);
        if (signer != worker) revert InvalidSigner(worker, signer);
    }

    function _eligibility(WorkerProfile storage p, Requirements calldata req)
        private
        view
        returns (Ineligibility)
    {
        // One SLOAD: the whole profile shares a slot.
        WorkerProfile memory w = p;
        if (w.maxConcurrent == 0) return Ineligibility.NotRegistered;
        if (!w.available) return Ineligibility.Unavailable;
        if (req.language >= 64 || w.languages & (uint64(1) << req.language) == 0) return Ineligibility.Language;
        if (w.expertise & req.expertise != req.expertise) return Ineligibility.Expertise;
        if (w.certifications & req.certifications != req.certifications) return Ineligibility.Certification;
        if (w.activeJobs >= w.maxConcurrent) return Ineligibility.AtCapacity;
        return Ineligibility.None;
    }

    function _emitWork(address worker, WorkerProfile storage p) private {
        emit WorkRecorded(worker, p.activeJobs, p.completed, p.missedDeadlines, p.disputesLost);
    }

    function _requireRegistered(address worker) private view returns (WorkerProfile storage p) {
        p = _profiles[worker];
        if (p.maxConcurrent == 0) revert WorkerNotRegistered(worker);
    }
}
