// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IEscrowRelay, SignedEvidence} from "./interfaces/IEscrowRelay.sol";
import {IJobEscrow, JobStatus, JobTerms} from "./interfaces/IJobEscrow.sol";
import {IVerificationOracle} from "./interfaces/IVerificationOracle.sol";
import {OracleOperators} from "./oracle/OracleOperators.sol";

/// @title VerificationOracle
/// @notice Staked k-of-n quorum that turns checked evidence into a verdict; see {IVerificationOracle}.
/// The operator set, stakes and liability are `oracle/OracleOperators`; this layer tallies
/// attestations (one by one, aggregated, or with the worker's evidence) and hands verdicts to the escrow.
contract VerificationOracle is OracleOperators, EIP712 {
    bytes32 private constant ATTESTATION_TYPEHASH =
        keccak256("Attestation(bytes32 jobId,bytes32 evidenceHash,bool approve,uint8 reason,uint64 setNonce)");

    /// @dev Bit i of a mask is the operator with index i + 1; the two sides never share a bit.
    struct Tally {
        uint128 approvals;
        uint128 rejections;
    }

    mapping(bytes32 jobId => Tally) private _tallies; // deleted once the verdict is final

    constructor(
        IERC20 token_,
        address escrow_,
        address governance,
        uint8 quorum_,
        uint256 minStake_,
        uint40 delay,
        uint96 slashPerOperator_
    )
        OracleOperators(token_, escrow_, governance, quorum_, minStake_, delay, slashPerOperator_)
        EIP712("EscalationVerificationOracle", "1")
    {}

    /// @inheritdoc IVerificationOracle
    function attest(bytes32 jobId, bytes32 evidenceHash, bool approve, uint8 reason, JobTerms calldata terms)
        external
        nonReentrant
    {
        uint128 bit = _operatorBit(msg.sender);
        _requireAwaiting(jobId, evidenceHash);
        Tally storage votes = _tallies[jobId];
        if ((votes.approvals | votes.rejections) & bit != 0) revert AlreadyAttested(jobId, msg.sender);
        uint128 side;
        if (approve) side = votes.approvals |= bit;
        else side = votes.rejections |= bit;
        emit Attested(jobId, msg.sender, evidenceHash, approve, reason);
        if (_popcount(side) < quorum) return;
        delete _tallies[jobId];
        _finalize(jobId, evidenceHash, approve, reason, side, terms);
    }

    /// @inheritdoc IVerificationOracle
    /// @dev The escrow checks status, evidence hash and deadline in `recordVerdict`, so this path
    /// skips the oracle's own pre-check.
    function attestWithSignatures(
        bytes32 jobId,
        bytes32 evidenceHash,
        bool approve,
        uint8 reason,
        JobTerms calldata terms,
        bytes32[2][] calldata signatures
    ) external nonReentrant {
        if (signatures.length == 0) revert NoCurrentAttestation(jobId, setNonce);
        Tally memory votes = _tallies[jobId];
        uint128 earlierSide = approve ? votes.approvals : votes.rejections;
        uint128 side = _signers(
            jobId,
            attestationDigest(jobId, evidenceHash, approve, reason),
            signatures,
            votes.approvals | votes.rejections,
            _popcount(earlierSide)
        ) | earlierSide;
        if (votes.approvals | votes.rejections != 0) delete _tallies[jobId];
        _finalize(jobId, evidenceHash, approve, reason, side, terms);
    }

    /// @inheritdoc IVerificationOracle
    /// @dev No tally is read: the escrow accepts this only for a job still `Accepted`, and nobody
    /// can attest a job before its evidence is on chain.
    function submitAndAttest(
        JobTerms calldata terms,
        SignedEvidence calldata evidence,
        bool approve,
        uint8 reason,
        bytes32[2][] calldata signatures
    ) external nonReentrant {
        bytes32 jobId = keccak256(abi.encode(terms));
        bytes32 evidenceHash = evidence.evidenceHash;
        uint128 side = _signers(jobId, attestationDigest(jobId, evidenceHash, approve, reason), signatures, 0, 0);
        _reachVerdict(jobId, evidenceHash, approve, reason, side, terms);
        IEscrowRelay(escrow).recordEvidenceAndVerdict(terms, evidence, approve, side);
    }

    /// @inheritdoc IVerificationOracle
    function attestationDigest(bytes32 jobId, bytes32 evidenceHash, bool approve, uint8 reason)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(ATTESTATION_TYPEHASH, jobId, evidenceHash, approve, reason, setNonce))
        );
    }

    /// @inheritdoc IVerificationOracle
    function tally(bytes32 jobId) external view returns (address[] memory approvers, address[] memory rejecters) {
        Tally memory t = _tallies[jobId];
        return (_members(t.approvals), _members(t.rejections));
    }

    function _finalize(
        bytes32 jobId,
        bytes32 evidenceHash,
        bool approve,
        uint8 reason,
        uint128 side,
        JobTerms calldata terms
    ) private {
        // The quorum attested `jobId`; the escrow acts on the job the terms hash to.
        bytes32 termsId = keccak256(abi.encode(terms));
        if (termsId != jobId) revert TermsNotForJob(jobId, termsId);
        _reachVerdict(jobId, evidenceHash, approve, reason, side, terms);
        IJobEscrow(escrow).recordVerdict(terms, evidenceHash, approve, side);
    }

    /// @dev What every path to a final verdict records before the escrow acts on it.
    function _reachVerdict(
        bytes32 jobId,
        bytes32 evidenceHash,
        bool approve,
        uint8 reason,
        uint128 side,
        JobTerms calldata terms
    ) private {
        if (terms.challengeWindow != 0) _verdictAttesters[jobId] = side;
        emit VerdictReached(jobId, evidenceHash, approve, reason, side);
    }

    /// @dev The mask of the distinct current operators who signed `digest`; with the `earlier`
    /// attestations already on chain (`seen` holds their bits) they must make the quorum.
    function _signers(bytes32 jobId, bytes32 digest, bytes32[2][] calldata signatures, uint128 seen, uint256 earlier)
        private
        view
        returns (uint128 side)
    {
        for (uint256 i = 0; i < signatures.length; ++i) {
            address signer = ECDSA.recover(digest, signatures[i][0], signatures[i][1]);
            uint128 bit = _operatorBit(signer);
            if (seen & bit != 0) revert AlreadyAttested(jobId, signer);
            seen |= bit;
            side |= bit;
        }
        uint256 valid = earlier + signatures.length;
        if (valid < quorum) revert QuorumNotReached(jobId, valid, quorum);
    }

    function _requireAwaiting(bytes32 jobId, bytes32 evidenceHash) private view {
        (JobStatus status, bytes32 current, uint40 verifyBy) = IJobEscrow(escrow).verificationContext(jobId);
        if (status != JobStatus.Submitted) revert NotAwaitingVerification(jobId, status);
        if (current != evidenceHash) revert EvidenceMismatch(jobId, current, evidenceHash);
        if (block.timestamp > verifyBy) revert VerificationClosed(jobId, verifyBy);
    }
}
