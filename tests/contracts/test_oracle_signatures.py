"""Aggregated attestations: a quorum's EIP-712 signatures finalize a verdict in one transaction."""

from eth_keys import keys
from eth_utils import keccak

from devtools.reverts import reverts
from devtools.system import PARAMS, REWARD
from protocol_core.enums import JobStatus


def _recovered(oracle, digest_args, signature):
    """The address the oracle recovers from a compact signature over `attestationDigest(*digest_args)`.

    It is the signer only when the signed message is that digest's; otherwise some other address.
    """
    r, y_parity_and_s = (int.from_bytes(part, "big") for part in signature)
    s = y_parity_and_s & ((1 << 255) - 1)
    digest = bytes(oracle.attestationDigest(*digest_args))
    key = keys.Signature(vrs=(y_parity_and_s >> 255, r, s)).recover_public_key_from_msg_hash(digest)
    return key.to_checksum_address()


def test_attest_with_signatures_pays_worker_in_one_tx_sent_by_stranger(
    escrow, oracle, usdc, worker, operators, stranger, flow, make_terms, sign_attestation
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    signatures = [sign_attestation(op, job_id, evidence_hash, reason=5) for op in operators[1:]]
    worker_before = usdc.balanceOf(worker)

    tx = oracle.attestWithSignatures(
        job_id, evidence_hash, True, 5, terms.as_abi(), signatures, sender=stranger
    )

    assert tx.events[0] == oracle.VerdictReached(job_id, evidence_hash, True, 5, 0b110)
    assert not tx.decode_logs(oracle.Attested)
    assert escrow.WorkerPaid(job_id, worker, REWARD, terms.protocol_fee) in tx.events
    assert usdc.balanceOf(worker) == worker_before + REWARD
    assert [escrow.operatorFeesOf(op) for op in operators] == [0, *[PARAMS.oracle_fee // 2] * 2]


def test_attestation_digest_matches_off_chain_signing(oracle, operators, sign_attestation):
    job_id, evidence_hash = keccak(b"job"), keccak(b"evidence")
    signature = sign_attestation(operators[0], job_id, evidence_hash, approve=False, reason=2)

    assert _recovered(oracle, (job_id, evidence_hash, False, 2), signature) == operators[0].address
    assert _recovered(oracle, (job_id, evidence_hash, False, 3), signature) != operators[0].address


def test_attest_with_signatures_reverts_when_signer_not_operator(
    oracle, worker, operators, stranger, flow, make_terms, sign_attestation
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    signatures = [sign_attestation(op, job_id, evidence_hash) for op in (operators[0], stranger)]

    with reverts(oracle.NotActiveOperator, account=stranger):
        oracle.attestWithSignatures(
            job_id, evidence_hash, True, 0, terms.as_abi(), signatures, sender=stranger
        )


def test_attest_with_signatures_reverts_when_signer_repeated(
    oracle, worker, operators, stranger, flow, make_terms, sign_attestation
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    signature = sign_attestation(operators[0], job_id, evidence_hash)

    with reverts(oracle.AlreadyAttested, jobId=job_id, operator=operators[0]):
        oracle.attestWithSignatures(
            job_id, evidence_hash, True, 0, terms.as_abi(), [signature, signature], sender=stranger
        )


def test_attest_with_signatures_reverts_when_below_quorum(
    oracle, worker, operators, stranger, flow, make_terms, sign_attestation
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    signatures = [sign_attestation(operators[0], job_id, evidence_hash)]

    with reverts(oracle.QuorumNotReached, jobId=job_id, valid=1, quorum=PARAMS.quorum):
        oracle.attestWithSignatures(
            job_id, evidence_hash, True, 0, terms.as_abi(), signatures, sender=stranger
        )


def test_attest_with_signatures_reverts_when_signed_for_another_job(
    oracle, worker, operators, stranger, flow, make_terms, sign_attestation
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    signatures = [sign_attestation(operators[0], job_id, evidence_hash)]
    signatures.append(sign_attestation(operators[1], keccak(b"another job"), evidence_hash))
    impostor = _recovered(oracle, (job_id, evidence_hash, True, 0), signatures[1])

    assert impostor != operators[1].address
    with reverts(oracle.NotActiveOperator, account=impostor):
        oracle.attestWithSignatures(
            job_id, evidence_hash, True, 0, terms.as_abi(), signatures, sender=stranger
        )


def test_attest_with_signatures_reverts_when_signed_for_another_chain(
    chain, oracle, worker, operators, stranger, flow, make_terms, sign_attestation
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    signatures = [
        sign_attestation(operators[0], job_id, evidence_hash),
        sign_attestation(operators[1], job_id, evidence_hash, chain_id=chain.chain_id + 1),
    ]
    impostor = _recovered(oracle, (job_id, evidence_hash, True, 0), signatures[1])

    with reverts(oracle.NotActiveOperator, account=impostor):
        oracle.attestWithSignatures(
            job_id, evidence_hash, True, 0, terms.as_abi(), signatures, sender=stranger
        )


def test_attest_with_signatures_reverts_when_signed_with_older_set_nonce(
    oracle, deployer, accounts, worker, operators, stranger, flow, make_terms, sign_attestation
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    old_nonce = oracle.setNonce()
    stale = sign_attestation(operators[1], job_id, evidence_hash)
    oracle.addOperator(accounts[10], sender=deployer)
    signatures = [sign_attestation(operators[0], job_id, evidence_hash), stale]
    impostor = _recovered(oracle, (job_id, evidence_hash, True, 0), stale)

    assert oracle.setNonce() == old_nonce + 1
    with reverts(oracle.NotActiveOperator, account=impostor):
        oracle.attestWithSignatures(
            job_id, evidence_hash, True, 0, terms.as_abi(), signatures, sender=stranger
        )


def test_attest_with_signatures_reverts_when_signed_for_other_verdict(
    oracle, worker, operators, stranger, flow, make_terms, sign_attestation
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    signatures = [
        sign_attestation(operators[0], job_id, evidence_hash, approve=True),
        sign_attestation(operators[1], job_id, evidence_hash, approve=False),
    ]
    impostor = _recovered(oracle, (job_id, evidence_hash, True, 0), signatures[1])

    with reverts(oracle.NotActiveOperator, account=impostor):
        oracle.attestWithSignatures(
            job_id, evidence_hash, True, 0, terms.as_abi(), signatures, sender=stranger
        )


def test_attest_with_signatures_counts_earlier_attestation_toward_quorum(
    escrow, oracle, worker, operators, stranger, flow, make_terms, sign_attestation
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    oracle.attest(job_id, evidence_hash, True, 0, terms.as_abi(), sender=operators[2])
    signatures = [sign_attestation(operators[0], job_id, evidence_hash)]

    tx = oracle.attestWithSignatures(
        job_id, evidence_hash, True, 0, terms.as_abi(), signatures, sender=stranger
    )

    assert tx.events[0] == oracle.VerdictReached(job_id, evidence_hash, True, 0, 0b101)
    assert escrow.jobState(job_id)[0] == JobStatus.PAID
    assert [escrow.operatorFeesOf(operators[i]) for i in (0, 2)] == [PARAMS.oracle_fee // 2] * 2
    assert oracle.tally(job_id) == ([], [])


def test_attest_with_signatures_reverts_when_signer_already_attested(
    oracle, worker, operators, stranger, flow, make_terms, sign_attestation
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    oracle.attest(job_id, evidence_hash, False, 0, terms.as_abi(), sender=operators[0])
    signatures = [sign_attestation(op, job_id, evidence_hash) for op in operators[:2]]

    with reverts(oracle.AlreadyAttested, jobId=job_id, operator=operators[0]):
        oracle.attestWithSignatures(
            job_id, evidence_hash, True, 0, terms.as_abi(), signatures, sender=stranger
        )


def test_attest_with_signatures_clears_tally_when_earlier_vote_was_opposite(
    escrow, oracle, worker, operators, stranger, flow, make_terms, sign_attestation
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    oracle.attest(job_id, evidence_hash, False, 0, terms.as_abi(), sender=operators[0])
    signatures = [sign_attestation(op, job_id, evidence_hash) for op in operators[1:]]

    oracle.attestWithSignatures(job_id, evidence_hash, True, 0, terms.as_abi(), signatures, sender=stranger)

    assert escrow.jobState(job_id)[0] == JobStatus.PAID
    assert oracle.tally(job_id) == ([], [])  # IVerificationOracle.tally: "empty once the verdict is final"


def test_attest_with_signatures_reverts_in_escrow_when_evidence_hash_differs(
    escrow, oracle, worker, operators, stranger, flow, make_terms, sign_attestation
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    wrong = keccak(b"some other bundle")
    signatures = [sign_attestation(op, job_id, wrong) for op in operators[:2]]

    with reverts(escrow.EvidenceMismatch, jobId=job_id, submitted=evidence_hash, given=wrong):
        oracle.attestWithSignatures(job_id, wrong, True, 0, terms.as_abi(), signatures, sender=stranger)


def test_attest_with_signatures_reverts_in_escrow_after_verify_by(
    chain, escrow, oracle, worker, operators, stranger, flow, make_terms, sign_attestation
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    verify_by = escrow.verificationContext(job_id)[2]
    signatures = [sign_attestation(op, job_id, evidence_hash) for op in operators[:2]]
    chain.pending_timestamp = verify_by + 1

    with reverts(escrow.DeadlinePassed, jobId=job_id, deadline=verify_by):
        oracle.attestWithSignatures(
            job_id, evidence_hash, True, 0, terms.as_abi(), signatures, sender=stranger
        )


def test_attest_with_signatures_reverts_when_replayed_after_verdict(
    escrow, oracle, worker, operators, stranger, flow, make_terms, sign_attestation
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    signatures = [sign_attestation(op, job_id, evidence_hash) for op in operators[:2]]
    oracle.attestWithSignatures(job_id, evidence_hash, True, 0, terms.as_abi(), signatures, sender=stranger)

    with reverts(escrow.JobNotInStatus, jobId=job_id, actual=JobStatus.PAID, expected=JobStatus.SUBMITTED):
        oracle.attestWithSignatures(
            job_id, evidence_hash, True, 0, terms.as_abi(), signatures, sender=stranger
        )


def test_attest_with_signatures_reverts_when_terms_are_another_jobs(
    escrow, oracle, usdc, worker, operators, flow, make_terms, sign_attestation
):
    # The worker submits the same evidence hash for two jobs; the operators verify and sign only
    # the first. Anyone holding those signatures must not be able to finalize the second job.
    verified, unverified = make_terms(), make_terms()
    verified_id, evidence_hash = flow.submitted(verified, worker)
    unverified_id, _ = flow.submitted(unverified, worker)
    signatures = [sign_attestation(op, verified_id, evidence_hash) for op in operators[:2]]
    worker_before = usdc.balanceOf(worker)

    with reverts(oracle.TermsNotForJob, jobId=verified_id, termsId=unverified_id):
        oracle.attestWithSignatures(
            verified_id, evidence_hash, True, 0, unverified.as_abi(), signatures, sender=worker
        )

    assert escrow.jobState(unverified_id)[0] == JobStatus.SUBMITTED
    assert usdc.balanceOf(worker) == worker_before


def test_attest_with_signatures_needs_a_current_attestation_after_a_quorum_change(
    escrow, oracle, deployer, worker, operators, stranger, flow, make_terms
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    oracle.attest(job_id, evidence_hash, True, 0, terms.as_abi(), sender=operators[0])
    oracle.attest(job_id, evidence_hash, False, 9, terms.as_abi(), sender=operators[1])
    oracle.setQuorum(1, sender=deployer)

    with reverts(oracle.NoCurrentAttestation, jobId=job_id, setNonce=oracle.setNonce()):
        oracle.attestWithSignatures(job_id, evidence_hash, True, 0, terms.as_abi(), [], sender=stranger)
    assert escrow.jobState(job_id)[0] == JobStatus.SUBMITTED

    final = oracle.attest(job_id, evidence_hash, True, 0, terms.as_abi(), sender=operators[2])
    assert oracle.VerdictReached(job_id, evidence_hash, True, 0, 0b101) in final.events
