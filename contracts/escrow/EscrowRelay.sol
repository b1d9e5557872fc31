// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {JobStatus, JobTerms} from "../interfaces/IJobEscrow.sol";
import {IEscrowRelay, SignedEvidence} from "../interfaces/IEscrowRelay.sol";
import {JobLifecycle} from "./JobLifecycle.sol";

/// @title EscrowRelay
/// @notice What a worker does by signature and anyone relays: accepting a job, submitting evidence,
/// and (through the oracle) evidence and verdict in one transaction. Every check of the direct
/// calls applies; a signature adds only who the worker is.
abstract contract EscrowRelay is JobLifecycle, IEscrowRelay, EIP712 {
    bytes32 private constant ACCEPTANCE_TYPEHASH =
        keccak256("Acceptance(bytes32 jobId,address worker,uint256 deadline)");
    bytes32 private constant EVIDENCE_TYPEHASH =
        keccak256("Evidence(bytes32 jobId,bytes32 evidenceHash,string uri,uint256 deadline)");

    constructor() EIP712("EscalationJobEscrow", "1") {}

    /// @inheritdoc IEscrowRelay
    function acceptJobFor(JobTerms calldata terms, address worker, uint256 deadline, bytes32[2] calldata signature)
        external
    {
        bytes32 jobId = _id(terms);
        if (block.timestamp > deadline) revert SignatureExpired(jobId, deadline);
        _requireSigner(jobId, acceptanceDigest(jobId, worker, deadline), signature, worker);
        _accept(jobId, terms, worker);
    }

    /// @inheritdoc IEscrowRelay
    function submitEvidenceFor(bytes32 jobId, SignedEvidence calldata evidence) external {
        JobState storage job = _states[jobId];
        _requireStatus(jobId, job.status, JobStatus.Accepted);
        address worker = job.worker;
        _requireWorkerEvidence(jobId, worker, evidence);
        _submit(jobId, job, worker, evidence.evidenceHash, evidence.uri);
    }

    /// @inheritdoc IEscrowRelay
    function recordEvidenceAndVerdict(
        JobTerms calldata terms,
        SignedEvidence calldata evidence,
        bool approved,
        uint128 attesters
    ) external onlyOracle nonReentrant {
        bytes32 jobId = _id(terms);
        JobState storage job = _states[jobId];
        _requireStatus(jobId, job.status, JobStatus.Accepted);
        address worker = job.worker;
        _requireWorkerEvidence(jobId, worker, evidence);
        _requireEvidence(jobId, job.deadline, evidence.evidenceHash, evidence.uri);
        // Submitted and judged in one step: the hash is in the event and is never stored.
        emit EvidenceSubmitted(jobId, worker, evidence.evidenceHash, evidence.uri);
        _applyVerdict(jobId, job, terms, approved, attesters);
    }

    /// @inheritdoc IEscrowRelay
    function acceptanceDigest(bytes32 jobId, address worker, uint256 deadline) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ACCEPTANCE_TYPEHASH, jobId, worker, deadline)));
    }

    /// @inheritdoc IEscrowRelay
    function evidenceDigest(bytes32 jobId, bytes32 evidenceHash, string calldata uri, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(EVIDENCE_TYPEHASH, jobId, evidenceHash, keccak256(bytes(uri)), deadline))
        );
    }

    /// @dev The job's worker signed this evidence, and the signature has not expired.
    function _requireWorkerEvidence(bytes32 jobId, address worker, SignedEvidence calldata evidence) private view {
        if (block.timestamp > evidence.deadline) revert SignatureExpired(jobId, evidence.deadline);
        bytes32 digest = evidenceDigest(jobId, evidence.evidenceHash, evidence.uri, evidence.deadline);
        _requireSigner(jobId, digest, evidence.signature, worker);
    }

    /// @dev OpenZeppelin's ECDSA refuses malleable (high-s) signatures and those recovering no one.
    function _requireSigner(bytes32 jobId, bytes32 digest, bytes32[2] calldata signature, address expected)
        private
        pure
    {
        address signer = ECDSA.recover(digest, signature[0], signature[1]);
        if (signer != expected) revert InvalidSigner(jobId, signer, expected);
    }
}
