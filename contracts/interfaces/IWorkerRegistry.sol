// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice What a job asks of the worker who takes it.
struct Requirements {
    uint8 language; // bit index in the protocol's language table (docs/protocol.md)
    uint64 expertise; // product-expertise bits; the worker needs all of them
    uint32 certifications; // certification bits; the worker needs all of them
}

/// @notice A worker's eligibility data and reputation, kept in one storage slot.
struct WorkerProfile {
    uint64 languages; // bit i set = speaks language i of the protocol's table
    uint64 expertise; // product-expertise bits, chosen by the worker
    uint32 certifications; // granted and revoked by certifiers only
    uint8 maxConcurrent; // jobs the worker takes at once; > 0 once registered
    uint8 activeJobs; // accepted and still awaiting a verdict
    bool available; // the worker's own on/off switch
    uint32 completed; // jobs paid out; written by the escrow only
    uint16 missedDeadlines; // jobs reclaimed after resolve-by; written by the escrow only
    uint16 disputesLost; // written by the escrow only
}

/// @notice Why a worker may not take a job; `None` means the worker is eligible.
enum Ineligibility {
    None,
    NotRegistered,
    Unavailable,
    Language,
    Expertise,
    Certification,
    AtCapacity
}

/// @notice How a job's work ended for its worker, as the escrow reports it.
enum WorkOutcome {
    Released, // a verdict came (or the oracle missed its deadline); reputation waits for settlement
    Completed, // approved and paid at once
    MissedDeadline // no evidence by resolve-by
}

/// @title Registry of human specialists who take escalated tickets.
/// @notice Workers describe themselves; certifiers vouch for certifications; only the escrow writes
/// capacity use and reputation.
interface IWorkerRegistry {
    /// @notice Emitted when `worker` registers or updates its profile.
    /// @param encryptionKey X25519 public key that ticket context is sealed to.
    /// @param profileURI Off-chain profile; emitted, never stored.
    event WorkerRegistered(
        address indexed worker,
        uint64 languages,
        uint64 expertise,
        uint8 maxConcurrent,
        bytes32 encryptionKey,
        string profileURI
    );

    /// @notice Emitted when `worker` switches its availability.
    event AvailabilityChanged(address indexed worker, bool available);

    /// @notice Emitted when a certifier changes `worker`'s certification bits to `certifications`.
    event CertificationsChanged(address indexed worker, address indexed certifier, uint32 certifications);

    /// @notice Emitted when the escrow changes `worker`'s capacity use or reputation counters.
    event WorkRecorded(
        address indexed worker, uint8 activeJobs, uint32 completed, uint16 missedDeadlines, uint16 disputesLost
    );

    /// @notice Thrown when a registration names no language, no capacity or no encryption key.
    error InvalidProfile(uint64 languages, uint8 maxConcurrent, bytes32 encryptionKey);

    /// @notice Thrown when `worker` has not registered.
    error WorkerNotRegistered(address worker);

    /// @notice Thrown when `worker` may not take a job, with the first reason found.
    error WorkerNotEligible(address worker, Ineligibility reason);

    /// @notice Thrown when the registry is deployed without an escrow or an admin.
    error InvalidWiring(address escrow, address admin);

    /// @notice Thrown when someone other than the escrow writes capacity or reputation.
    error CallerNotEscrow(address caller);

    /// @notice Thrown when `worker`'s signature is used after its `deadline`.
    error SignatureExpired(address worker, uint256 deadline);

    /// @notice Thrown when a signature for `worker`'s profile recovers `signer` instead (a wrong key,
    /// another message, or a nonce already used).
    error InvalidSigner(address worker, address signer);

    /// @notice Registers the caller, or updates its profile; certifications and reputation are kept.
    function register(
        uint64 languages,
        uint64 expertise,
        uint8 maxConcurrent,
        bytes32 encryptionKey_,
        string calldata profileURI
    ) external;

    /// @notice `register` for `worker`, sent by anyone (whoever onboards it), so that a worker can
    /// start with an empty wallet. `worker` signs, under this registry's EIP-712 domain (name
    /// "EscalationWorkerRegistry", version "1", the chain id and this address),
    /// `Registration(address worker,uint64 languages,uint64 expertise,uint8 maxConcurrent,
    /// bytes32 encryptionKey,string profileURI,uint256 nonce,uint256 deadline)` with its current
    /// `nonces(worker)`, which this call uses up.
    function registerFor(
        address worker,
        uint64 languages,
        uint64 expertise,
        uint8 maxConcurrent,
        bytes32 encryptionKey_,
        string calldata profileURI,
        uint256 deadline,
        bytes32[2] calldata signature
    ) external;

    /// @notice Turns the caller's availability for new jobs on or off.
    function setAvailability(bool available) external;

    /// @notice `setAvailability` for `worker`, sent by anyone, by the worker's signature of
    /// `Availability(address worker,bool available,uint256 nonce,uint256 deadline)` (see `registerFor`).
    function setAvailabilityFor(address worker, bool available, uint256 deadline, bytes32[2] calldata signature)
        external;

    /// @notice Adds certification `bits` to `worker`. Certifier role only.
    function grantCertifications(address worker, uint32 bits) external;

    /// @notice Removes certification `bits` from `worker`. Certifier role only.
    function revokeCertifications(address worker, uint32 bits) external;

    /// @notice Takes one of `worker`'s capacity slots for a job with `req`; reverts with the reason
    /// when the worker is not eligible. Escrow only.
    function startJob(address worker, Requirements calldata req) external;

    /// @notice Gives back the slot taken by `startJob` and counts `outcome`. Escrow only.
    function finishJob(address worker, WorkOutcome outcome) external;

    /// @notice Counts a job paid out after its challenge window. Escrow only.
    function recordCompletion(address worker) external;

    /// @notice Counts a dispute lost by `worker`. Escrow only.
    function recordDisputeLost(address worker) external;

    /// @notice The escrow allowed to write capacity and reputation.
    function escrow() external view returns (address);

    /// @notice `worker`'s profile; all zero when unregistered.
    function profile(address worker) external view returns (WorkerProfile memory);

    /// @notice The nonce `worker`'s next signed registration or availability change must carry.
    function nonces(address worker) external view returns (uint256);

    /// @notice The EIP-712 domain separator of this registry (chain id and address included).
    function domainSeparator() external view returns (bytes32);

    /// @notice The X25519 key ticket context for `worker` is sealed to.
    function encryptionKey(address worker) external view returns (bytes32);

    /// @notice Whether `worker` may take a job with `req` now; `None` when it may.
    function eligibility(address worker, Requirements calldata req) external view returns (Ineligibility);
}
