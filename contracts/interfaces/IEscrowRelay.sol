// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {JobTerms} from "./IJobEscrow.sol";

/// @notice A worker's evidence with its EIP-712 signature, for someone else to put on chain.
struct SignedEvidence {
    bytes32 evidenceHash; // keccak256 of the evidence bundle
    string uri; // where the bundle can be fetched; emitted, never stored
    uint256 deadline; // unix seconds; the signature is void afterwards
    bytes32[2] signature; // the job's worker, EIP-2098 compact form (r, yParityAndS)
}

/// @title The escrow's relayed entry points: a worker acts by signature, anyone sends it.
/// @notice The worker signs, under the escrow's EIP-712 domain (name "EscalationJobEscrow",
/// version "1", the chain id and the escrow's address), `Acceptance(bytes32 jobId,address worker,
/// uint256 deadline)` to take a job and `Evidence(bytes32 jobId,bytes32 evidenceHash,string uri,
/// uint256 deadline)` to submit evidence. Neither names an amount or a recipient: whoever relays
/// them can only put the worker's own decision on chain, or not (a relayer can delay, never redirect
/// money or forge). Each works once (the job's status moves on) and only until its deadline.
/// The events are those of the direct calls (`JobAccepted`, `EvidenceSubmitted`, naming the worker);
/// the relayer is the transaction's sender.
interface IEscrowRelay {
    /// @notice Thrown when a worker's signature for `jobId` is used after its `deadline`.
    error SignatureExpired(bytes32 jobId, uint256 deadline);

    /// @notice Thrown when a signature for `jobId` recovers `signer` instead of `expected`.
    error InvalidSigner(bytes32 jobId, address signer, address expected);

    /// @notice `acceptJob` for `worker`, by its `Acceptance` signature, sent by anyone: the same
    /// checks (open, by accept-by, offered to `worker` if offered, eligible and within capacity).
    function acceptJobFor(JobTerms calldata terms, address worker, uint256 deadline, bytes32[2] calldata signature)
        external;

    /// @notice `submitEvidence` for the job's worker, by its `Evidence` signature, sent by anyone:
    /// the same checks (accepted, by resolve-by, a hash and a URI).
    function submitEvidenceFor(bytes32 jobId, SignedEvidence calldata evidence) external;

    /// @notice The worker's signed evidence and the oracle's final verdict on it in one call: the
    /// evidence is checked as `submitEvidenceFor` checks it (the job must be `Accepted`), then the
    /// verdict is recorded as `recordVerdict` records it. The evidence hash is emitted, not stored.
    /// Verification oracle only (`VerificationOracle.submitAndAttest`).
    function recordEvidenceAndVerdict(
        JobTerms calldata terms,
        SignedEvidence calldata evidence,
        bool approved,
        uint128 attesters
    ) external;

    /// @notice The EIP-712 digest a worker signs to accept `jobId` (valid until `deadline`).
    function acceptanceDigest(bytes32 jobId, address worker, uint256 deadline) external view returns (bytes32);

    /// @notice The EIP-712 digest a worker signs to submit evidence for `jobId`.
    function evidenceDigest(bytes32 jobId, bytes32 evidenceHash, string calldata uri, uint256 deadline)
        external
        view
        returns (bytes32);
}
