"""Settlement: the verdict moves the money, or time does; nothing a recipient does can block it."""

from eth_utils import keccak

from devtools.reverts import reverts
from devtools.system import PARAMS, REWARD, ZERO_HASH
from protocol_core.deployment import deploy_system
from protocol_core.enums import JobStatus, RefundReason

CHALLENGE_WINDOW = 600


def _escrow_owes(escrow, accounts):
    credits = sum(escrow.creditOf(a) + escrow.operatorFeesOf(a) for a in accounts)
    return credits + escrow.protocolFeesAccrued()


def test_record_verdict_pays_worker_when_approved_without_window(
    escrow, oracle, registry, usdc, worker, operators, flow, make_terms
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    worker_before = usdc.balanceOf(worker)

    _, final = flow.attest(job_id, evidence_hash, terms)

    half = PARAMS.oracle_fee // 2
    assert final.events == [
        oracle.Attested(job_id, operators[1], evidence_hash, True, 0),
        oracle.VerdictReached(job_id, evidence_hash, True, 0, 0b011),
        escrow.OracleFeeShared(job_id, 0b011, PARAMS.oracle_fee),
        escrow.WorkerPaid(job_id, worker, REWARD, terms.protocol_fee),
        usdc.Transfer(escrow, worker, REWARD),
        registry.WorkRecorded(worker, activeJobs=0, completed=1, missedDeadlines=0, disputesLost=0),
    ]
    assert usdc.balanceOf(worker) == worker_before + REWARD
    assert [escrow.operatorFeesOf(op) for op in operators] == [half, half, 0]
    assert [escrow.creditOf(op) for op in operators] == [0, 0, 0]
    assert escrow.protocolFeesAccrued() == terms.protocol_fee
    assert escrow.jobState(job_id)[0] == JobStatus.PAID
    assert usdc.balanceOf(escrow) == _escrow_owes(escrow, operators)


def test_record_verdict_gives_fee_dust_to_lowest_index_attester(
    escrow, deployer, worker, operators, flow, make_terms
):
    escrow.setFees(PARAMS.protocol_fee_bps, 500_001, sender=deployer)
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)

    # Attesters are listed by operator index, whoever attested first.
    flow.attest(job_id, evidence_hash, terms, operators=[operators[2], operators[1]])

    assert [escrow.operatorFeesOf(op) for op in operators] == [0, 250_001, 250_000]


def test_record_verdict_refunds_agent_and_pays_oracle_when_rejected_without_window(
    escrow, oracle, registry, usdc, agent, worker, operators, flow, make_terms
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    agent_before, worker_before = usdc.balanceOf(agent), usdc.balanceOf(worker)

    _, final = flow.attest(job_id, evidence_hash, terms, approve=False, reason=7)

    refund = REWARD + terms.protocol_fee
    assert final.events == [
        oracle.Attested(job_id, operators[1], evidence_hash, False, 7),
        oracle.VerdictReached(job_id, evidence_hash, False, 7, 0b011),
        escrow.OracleFeeShared(job_id, 0b011, PARAMS.oracle_fee),
        escrow.AgentRefunded(job_id, agent, refund, RefundReason.REJECTED),
        usdc.Transfer(escrow, agent, refund),
        registry.WorkRecorded(worker, activeJobs=0, completed=0, missedDeadlines=0, disputesLost=0),
    ]
    assert usdc.balanceOf(agent) == agent_before + refund
    assert usdc.balanceOf(worker) == worker_before
    assert escrow.protocolFeesAccrued() == 0
    assert escrow.jobState(job_id)[0] == JobStatus.REFUNDED
    assert usdc.balanceOf(escrow) == _escrow_owes(escrow, operators) == PARAMS.oracle_fee


def test_settle_pays_worker_when_approval_window_passed(
    chain, escrow, registry, usdc, worker, stranger, flow, make_terms
):
    terms = make_terms(challenge_window=CHALLENGE_WINDOW)
    job_id, evidence_hash = flow.submitted(terms, worker)
    worker_before = usdc.balanceOf(worker)

    _, final = flow.attest(job_id, evidence_hash, terms)

    ends_at = final.timestamp + CHALLENGE_WINDOW
    assert escrow.VerdictRecorded(job_id, True, ends_at) in final.events
    assert not final.decode_logs(escrow.WorkerPaid)
    assert escrow.jobState(job_id) == (JobStatus.APPROVED, worker.address, ends_at)
    assert registry.profile(worker).activeJobs == 0  # the slot frees with the verdict
    assert registry.profile(worker).completed == 0  # reputation waits for the money

    chain.pending_timestamp = ends_at
    with reverts(escrow.NothingToSettle, jobId=job_id, status=JobStatus.APPROVED, notBefore=ends_at):
        escrow.settle(terms.as_abi(), sender=stranger)

    chain.pending_timestamp = ends_at + 1
    tx = escrow.settle(terms.as_abi(), sender=stranger)

    assert tx.events == [
        escrow.WorkerPaid(job_id, worker, REWARD, terms.protocol_fee),
        usdc.Transfer(escrow, worker, REWARD),
        registry.WorkRecorded(worker, activeJobs=0, completed=1, missedDeadlines=0, disputesLost=0),
    ]
    assert usdc.balanceOf(worker) == worker_before + REWARD
    assert escrow.protocolFeesAccrued() == terms.protocol_fee
    assert escrow.jobState(job_id)[0] == JobStatus.PAID


def test_settle_refunds_agent_when_rejection_window_passed(
    chain, escrow, usdc, agent, worker, operators, stranger, flow, make_terms
):
    terms = make_terms(challenge_window=CHALLENGE_WINDOW)
    job_id, evidence_hash = flow.submitted(terms, worker)
    agent_before = usdc.balanceOf(agent)
    _, final = flow.attest(job_id, evidence_hash, terms, approve=False)
    ends_at = final.timestamp + CHALLENGE_WINDOW
    assert escrow.VerdictRecorded(job_id, False, ends_at) in final.events
    assert escrow.jobState(job_id)[0] == JobStatus.REJECTED
    assert usdc.balanceOf(agent) == agent_before

    chain.pending_timestamp = ends_at + 1
    tx = escrow.settle(terms.as_abi(), sender=stranger)

    refund = REWARD + terms.protocol_fee
    assert tx.events == [
        escrow.AgentRefunded(job_id, agent, refund, RefundReason.REJECTED),
        usdc.Transfer(escrow, agent, refund),
    ]
    assert usdc.balanceOf(agent) == agent_before + refund
    assert [escrow.operatorFeesOf(op) for op in operators[:2]] == [PARAMS.oracle_fee // 2] * 2


def test_settle_refunds_everything_when_nobody_accepted(
    chain, escrow, usdc, agent, stranger, flow, make_terms
):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    before = usdc.balanceOf(agent)

    chain.pending_timestamp = terms.accept_by
    with reverts(escrow.NothingToSettle, jobId=job_id, status=JobStatus.OPEN, notBefore=terms.accept_by):
        escrow.settle(terms.as_abi(), sender=stranger)
    chain.pending_timestamp = terms.accept_by + 1
    tx = escrow.settle(terms.as_abi(), sender=stranger)

    assert tx.events == [
        escrow.AgentRefunded(job_id, agent, terms.total, RefundReason.NOT_ACCEPTED),
        usdc.Transfer(escrow, agent, terms.total),
    ]
    assert usdc.balanceOf(agent) == before + terms.total
    assert escrow.jobState(job_id)[0] == JobStatus.REFUNDED


def test_settle_refunds_everything_and_counts_miss_when_resolve_by_passed(
    chain, escrow, registry, usdc, agent, worker, stranger, flow, make_terms
):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    flow.accept(job_id, terms, worker)
    before = usdc.balanceOf(agent)

    chain.pending_timestamp = terms.resolve_by
    with reverts(escrow.NothingToSettle, jobId=job_id, status=JobStatus.ACCEPTED, notBefore=terms.resolve_by):
        escrow.settle(terms.as_abi(), sender=stranger)
    chain.pending_timestamp = terms.resolve_by + 1
    tx = escrow.settle(terms.as_abi(), sender=stranger)

    assert tx.events == [
        escrow.AgentRefunded(job_id, agent, terms.total, RefundReason.RESOLVE_DEADLINE_MISSED),
        usdc.Transfer(escrow, agent, terms.total),
        registry.WorkRecorded(worker, activeJobs=0, completed=0, missedDeadlines=1, disputesLost=0),
    ]
    assert usdc.balanceOf(agent) == before + terms.total
    assert registry.profile(worker).missedDeadlines == 1


def test_settle_refunds_oracle_fee_too_when_verification_missed(
    chain, escrow, registry, usdc, agent, worker, operators, stranger, flow, make_terms
):
    terms = make_terms(challenge_window=CHALLENGE_WINDOW)
    job_id, evidence_hash = flow.submitted(terms, worker)
    flow.attest(job_id, evidence_hash, terms, operators=operators[:1])  # one vote, no quorum
    verify_by = escrow.verificationContext(job_id)[2]
    before = usdc.balanceOf(agent)

    chain.pending_timestamp = verify_by + CHALLENGE_WINDOW
    with reverts(
        escrow.NothingToSettle,
        jobId=job_id,
        status=JobStatus.SUBMITTED,
        notBefore=verify_by + CHALLENGE_WINDOW,
    ):
        escrow.settle(terms.as_abi(), sender=stranger)
    chain.pending_timestamp = verify_by + CHALLENGE_WINDOW + 1
    tx = escrow.settle(terms.as_abi(), sender=stranger)

    assert tx.events == [
        escrow.AgentRefunded(job_id, agent, terms.total, RefundReason.VERIFICATION_MISSED),
        usdc.Transfer(escrow, agent, terms.total),
        registry.WorkRecorded(worker, activeJobs=0, completed=0, missedDeadlines=0, disputesLost=0),
    ]
    assert usdc.balanceOf(agent) == before + terms.total
    assert escrow.operatorFeesOf(operators[0]) == 0
    assert escrow.verificationContext(job_id)[:2] == (JobStatus.REFUNDED, ZERO_HASH)


def test_settle_reverts_when_already_settled(chain, escrow, worker, stranger, flow, make_terms):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    flow.attest(job_id, evidence_hash, terms)
    deadline = escrow.jobState(job_id)[2]

    chain.pending_timestamp = terms.resolve_by + 10 * PARAMS.verification_window
    with reverts(escrow.NothingToSettle, jobId=job_id, status=JobStatus.PAID, notBefore=deadline):
        escrow.settle(terms.as_abi(), sender=stranger)


def test_settle_reverts_when_already_refunded(chain, escrow, stranger, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    chain.pending_timestamp = terms.accept_by + 1
    escrow.settle(terms.as_abi(), sender=stranger)

    with reverts(escrow.NothingToSettle, jobId=job_id, status=JobStatus.REFUNDED):
        escrow.settle(terms.as_abi(), sender=stranger)


def test_settle_reverts_when_terms_never_posted(escrow, stranger, make_terms):
    terms = make_terms()

    with reverts(escrow.NothingToSettle, jobId=terms.digest(), status=JobStatus.NONE, notBefore=0):
        escrow.settle(terms.as_abi(), sender=stranger)


def test_payout_credits_blacklisted_worker_who_withdraws_elsewhere(
    escrow, usdc, worker, stranger, flow, make_terms
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    usdc.setBlacklisted(worker, True, sender=stranger)

    _, final = flow.attest(job_id, evidence_hash, terms)

    assert final.events.filter(escrow.Credited, account=worker.address) == [escrow.Credited(worker, REWARD)]
    assert escrow.WorkerPaid(job_id, worker, REWARD, terms.protocol_fee) in final.events
    assert not final.decode_logs(usdc.Transfer)
    assert escrow.creditOf(worker) == REWARD
    assert escrow.jobState(job_id)[0] == JobStatus.PAID

    before = usdc.balanceOf(stranger)
    tx = escrow.withdraw(stranger, sender=worker)

    assert tx.return_value == REWARD
    assert tx.events == [
        escrow.Withdrawn(worker, stranger, REWARD),
        usdc.Transfer(escrow, stranger, REWARD),
    ]
    assert usdc.balanceOf(stranger) == before + REWARD
    assert escrow.creditOf(worker) == 0


def test_refund_credits_agent_when_blacklisted(escrow, usdc, agent, stranger, flow, make_terms):
    terms = make_terms()
    job_id, _ = flow.post(terms)
    usdc.setBlacklisted(agent, True, sender=stranger)

    tx = escrow.cancelJob(terms.as_abi(), sender=agent)

    assert tx.events == [
        escrow.AgentRefunded(job_id, agent, terms.total, RefundReason.CANCELLED),
        escrow.Credited(agent, terms.total),
    ]
    assert escrow.creditOf(agent) == terms.total


def test_withdraw_reverts_when_nothing_credited(escrow, stranger):
    with reverts(escrow.NothingToWithdraw, account=stranger):
        escrow.withdraw(stranger, sender=stranger)


def test_withdraw_reverts_when_credit_already_withdrawn(escrow, usdc, worker, flow, make_terms):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    usdc.setBlacklisted(worker, True, sender=worker)
    flow.attest(job_id, evidence_hash, terms)
    usdc.setBlacklisted(worker, False, sender=worker)
    escrow.withdraw(worker, sender=worker)

    with reverts(escrow.NothingToWithdraw, account=worker):
        escrow.withdraw(worker, sender=worker)


def test_withdraw_operator_fees_pays_operator_its_oracle_fee_only(
    escrow, usdc, worker, stranger, operators, flow, make_terms
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    flow.attest(job_id, evidence_hash, terms)
    before, share = usdc.balanceOf(stranger), PARAMS.oracle_fee // 2

    tx = escrow.withdrawOperatorFees(stranger, sender=operators[1])

    assert tx.return_value == share
    assert tx.events == [
        escrow.Withdrawn(operators[1], stranger, share),
        usdc.Transfer(escrow, stranger, share),
    ]
    assert usdc.balanceOf(stranger) == before + share
    # The other lanes of the slot are untouched: operator 0's share and the protocol fee.
    assert [escrow.operatorFeesOf(op) for op in operators] == [share, 0, 0]
    assert escrow.protocolFeesAccrued() == terms.protocol_fee
    with reverts(escrow.NothingToWithdraw, account=operators[1]):
        escrow.withdrawOperatorFees(operators[1], sender=operators[1])


def test_withdraw_operator_fees_reverts_for_a_non_operator_and_withdraw_pays_no_fees(
    escrow, worker, stranger, operators, flow, make_terms
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    flow.attest(job_id, evidence_hash, terms)

    with reverts(escrow.NothingToWithdraw, account=stranger):
        escrow.withdrawOperatorFees(stranger, sender=stranger)
    with reverts(escrow.NothingToWithdraw, account=operators[0]):
        escrow.withdraw(operators[0], sender=operators[0])
    assert escrow.operatorFeesOf(stranger) == 0


def test_protocol_fees_past_a_64_bit_lane_spill_over_and_are_collected_whole(
    escrow, deployer, usdc, agent, worker, treasury, stranger, flow, make_terms
):
    escrow.setFees(1_000, PARAMS.oracle_fee, sender=deployer)
    reward = 10**20  # a 10 % protocol fee of 10**19: two of them pass 2**64 - 1
    usdc.mint(agent, 3 * reward, sender=agent)
    usdc.approve(escrow, 2**256 - 1, sender=agent)
    jobs = [make_terms(reward=reward), make_terms(reward=reward)]
    for terms in jobs:
        job_id, evidence_hash = flow.submitted(terms, worker)
        flow.attest(job_id, evidence_hash, terms)
    accrued = 2 * jobs[0].protocol_fee
    assert accrued > 2**64 - 1
    assert escrow.protocolFeesAccrued() == accrued
    before = usdc.balanceOf(treasury)

    tx = escrow.collectProtocolFees(sender=stranger)

    assert tx.return_value == accrued
    assert usdc.balanceOf(treasury) == before + accrued
    assert escrow.protocolFeesAccrued() == 0


def test_collect_protocol_fees_sends_accrued_fees_to_treasury(
    escrow, usdc, worker, treasury, stranger, flow, make_terms
):
    first, second = make_terms(), make_terms(reward=REWARD * 3)
    for terms in (first, second):
        job_id, evidence_hash = flow.submitted(terms, worker)
        flow.attest(job_id, evidence_hash, terms)
    accrued = first.protocol_fee + second.protocol_fee
    assert escrow.protocolFeesAccrued() == accrued
    before = usdc.balanceOf(treasury)

    tx = escrow.collectProtocolFees(sender=stranger)

    assert tx.return_value == accrued
    assert tx.events == [
        escrow.ProtocolFeesCollected(treasury, accrued),
        usdc.Transfer(escrow, treasury, accrued),
    ]
    assert usdc.balanceOf(treasury) == before + accrued
    assert escrow.protocolFeesAccrued() == 0


def test_collect_protocol_fees_reverts_when_nothing_accrued(escrow, treasury, stranger):
    with reverts(escrow.NothingToWithdraw, account=treasury):
        escrow.collectProtocolFees(sender=stranger)


def test_record_verdict_uses_posted_fees_when_fees_changed(
    escrow, deployer, usdc, worker, operators, flow, make_terms
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    escrow.setFees(1_000, 2_000_000, sender=deployer)

    flow.attest(job_id, evidence_hash, terms)

    assert escrow.protocolFeesAccrued() == terms.protocol_fee == REWARD // 100
    assert escrow.operatorFeesOf(operators[0]) == PARAMS.oracle_fee // 2
    assert usdc.balanceOf(escrow) == _escrow_owes(escrow, operators)


def test_settle_blocks_reentry_when_token_calls_back(
    chain, project, deployer, agent, treasury, stranger, make_terms
):
    # A hostile token calls back into the escrow on every transfer: here, settling another job
    # from inside the first job's refund.
    token = deployer.deploy(project.TestReentrantToken)
    hostile = deploy_system(project, deployer, token, PARAMS, treasury=str(treasury.address)).escrow
    first, second = make_terms(), make_terms()
    token.mint(agent, first.total + second.total, sender=agent)
    token.approve(hostile, first.total + second.total, sender=agent)
    for terms in (first, second):
        hostile.postJob(terms.as_abi(), sender=agent)
    token.arm(hostile, hostile.settle.encode_input(second.as_abi()), sender=stranger)
    chain.pending_timestamp = max(first.accept_by, second.accept_by) + 1

    tx = hostile.settle(first.as_abi(), sender=stranger)

    reentrancy_error = keccak(text="ReentrancyGuardReentrantCall()")[:4]
    assert tx.decode_logs(token.Callback) == [token.Callback(False, reentrancy_error)]
    assert hostile.jobState(first.digest())[0] == JobStatus.REFUNDED
    assert hostile.jobState(second.digest())[0] == JobStatus.OPEN
    assert token.balanceOf(agent) == first.total
    assert token.balanceOf(hostile) == second.total
