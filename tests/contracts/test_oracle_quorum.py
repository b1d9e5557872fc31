"""k-of-n quorum by on-chain attestations: the first side to reach the quorum decides the job."""

from eth_utils import keccak

from devtools.reverts import reverts
from devtools.system import PARAMS, REWARD
from protocol_core.enums import JobStatus


def test_attest_pays_worker_when_second_of_three_approves(
    escrow, oracle, usdc, worker, operators, flow, make_terms
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    worker_before = usdc.balanceOf(worker)

    first = oracle.attest(job_id, evidence_hash, True, 3, terms.as_abi(), sender=operators[0])

    assert first.events == [oracle.Attested(job_id, operators[0], evidence_hash, True, 3)]
    assert oracle.tally(job_id) == ([operators[0].address], [])
    assert escrow.jobState(job_id)[0] == JobStatus.SUBMITTED

    final = oracle.attest(job_id, evidence_hash, True, 4, terms.as_abi(), sender=operators[2])

    assert final.events[:2] == [
        oracle.Attested(job_id, operators[2], evidence_hash, True, 4),
        oracle.VerdictReached(job_id, evidence_hash, True, 4, 0b101),
    ]
    assert escrow.WorkerPaid(job_id, worker, REWARD, terms.protocol_fee) in final.events
    assert usdc.balanceOf(worker) == worker_before + REWARD
    assert oracle.tally(job_id) == ([], [])
    half = PARAMS.oracle_fee // 2
    assert [escrow.operatorFeesOf(op) for op in operators] == [half, 0, half]


def test_attest_reverts_when_evidence_hash_differs(oracle, worker, operators, flow, make_terms):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    wrong = keccak(b"some other bundle")

    with reverts(oracle.EvidenceMismatch, jobId=job_id, current=evidence_hash, attested=wrong):
        oracle.attest(job_id, wrong, True, 0, terms.as_abi(), sender=operators[0])


def test_attest_reverts_when_operator_attests_twice(oracle, worker, operators, flow, make_terms):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    oracle.attest(job_id, evidence_hash, True, 0, terms.as_abi(), sender=operators[0])

    for approve in (True, False):  # neither the same side again nor switching sides
        with reverts(oracle.AlreadyAttested, jobId=job_id, operator=operators[0]):
            oracle.attest(job_id, evidence_hash, approve, 0, terms.as_abi(), sender=operators[0])
    assert oracle.tally(job_id) == ([operators[0].address], [])


def test_attest_reverts_when_verdict_final(oracle, worker, operators, flow, make_terms):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    flow.attest(job_id, evidence_hash, terms)

    with reverts(oracle.NotAwaitingVerification, jobId=job_id, status=JobStatus.PAID):
        oracle.attest(job_id, evidence_hash, True, 0, terms.as_abi(), sender=operators[2])


def test_attest_reverts_during_challenge_window(oracle, worker, operators, flow, make_terms):
    terms = make_terms(challenge_window=600)
    job_id, evidence_hash = flow.submitted(terms, worker)
    flow.attest(job_id, evidence_hash, terms)

    with reverts(oracle.NotAwaitingVerification, jobId=job_id, status=JobStatus.APPROVED):
        oracle.attest(job_id, evidence_hash, False, 0, terms.as_abi(), sender=operators[2])


def test_attest_reverts_when_no_evidence_yet(oracle, worker, operators, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    flow.accept(job_id, terms, worker)

    with reverts(oracle.NotAwaitingVerification, jobId=job_id, status=JobStatus.ACCEPTED):
        oracle.attest(job_id, keccak(b"guess"), True, 0, terms.as_abi(), sender=operators[0])


def test_attest_works_at_verify_by_and_reverts_after(
    chain, escrow, oracle, worker, operators, flow, make_terms
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    verify_by = escrow.verificationContext(job_id)[2]

    chain.pending_timestamp = verify_by
    on_time = oracle.attest(job_id, evidence_hash, True, 0, terms.as_abi(), sender=operators[0])
    chain.pending_timestamp = verify_by + 1
    with reverts(oracle.VerificationClosed, jobId=job_id, verifyBy=verify_by):
        oracle.attest(job_id, evidence_hash, True, 0, terms.as_abi(), sender=operators[1])

    assert on_time.timestamp == verify_by
    assert escrow.jobState(job_id)[0] == JobStatus.SUBMITTED


def test_attest_waits_for_third_operator_when_votes_split(
    escrow, oracle, usdc, agent, worker, operators, flow, make_terms
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    oracle.attest(job_id, evidence_hash, True, 0, terms.as_abi(), sender=operators[0])
    oracle.attest(job_id, evidence_hash, False, 9, terms.as_abi(), sender=operators[1])
    assert oracle.tally(job_id) == ([operators[0].address], [operators[1].address])
    assert escrow.jobState(job_id)[0] == JobStatus.SUBMITTED
    agent_before = usdc.balanceOf(agent)

    final = oracle.attest(job_id, evidence_hash, False, 9, terms.as_abi(), sender=operators[2])

    assert oracle.VerdictReached(job_id, evidence_hash, False, 9, 0b110) in final.events
    assert usdc.balanceOf(agent) == agent_before + REWARD + terms.protocol_fee
    # Only the operators of the final verdict share the fee.
    assert [escrow.operatorFeesOf(op) for op in operators] == [0, *[PARAMS.oracle_fee // 2] * 2]
    assert oracle.tally(job_id) == ([], [])


def test_tally_is_empty_for_unknown_job(oracle):
    assert oracle.tally(keccak(b"no such job")) == ([], [])


def test_attest_reverts_when_final_attester_passes_wrong_terms(
    escrow, oracle, worker, operators, flow, make_terms
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    oracle.attest(job_id, evidence_hash, True, 0, terms.as_abi(), sender=operators[0])
    wrong = terms.model_copy(update={"reward": terms.reward + 1})

    # A job's id is the hash of its terms: the oracle refuses terms that hash to another id.
    with reverts(oracle.TermsNotForJob, jobId=job_id, termsId=wrong.digest()):
        oracle.attest(job_id, evidence_hash, True, 0, wrong.as_abi(), sender=operators[1])
    assert oracle.tally(job_id) == ([operators[0].address], [])

    oracle.attest(job_id, evidence_hash, True, 0, terms.as_abi(), sender=operators[1])
    assert escrow.jobState(job_id)[0] == JobStatus.PAID


def test_attest_reverts_when_final_attester_passes_another_jobs_terms(
    escrow, oracle, worker, operators, flow, make_terms
):
    # The worker submits one evidence hash for two jobs; the quorum only ever looked at the first.
    verified, unverified = make_terms(), make_terms()
    verified_id, evidence_hash = flow.submitted(verified, worker)
    unverified_id, _ = flow.submitted(unverified, worker)
    oracle.attest(verified_id, evidence_hash, True, 0, verified.as_abi(), sender=operators[0])

    with reverts(oracle.TermsNotForJob, jobId=verified_id, termsId=unverified_id):
        oracle.attest(verified_id, evidence_hash, True, 0, unverified.as_abi(), sender=operators[1])

    assert escrow.jobState(unverified_id)[0] == JobStatus.SUBMITTED
    assert oracle.tally(unverified_id) == ([], [])
