"""Posting: what a new job pulls, the terms it commits to, and the governance knobs around it."""

import ape
import pytest
from eth_abi import encode
from eth_utils import is_address, keccak, to_checksum_address

from devtools.reverts import reverts
from devtools.system import PARAMS, REWARD
from protocol_core.deployment import deploy_system
from protocol_core.enums import JobStatus, RefundReason
from protocol_core.terms import ZERO_ADDRESS

MAX_CHALLENGE_WINDOW = 30 * 24 * 3600


def _plain(value):
    """A decoded or built ABI value with checksummed addresses, plain bytes and tuples."""
    if isinstance(value, list | tuple):
        return tuple(_plain(item) for item in value)
    if isinstance(value, str) and is_address(value):
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return bytes(value)
    return value


def test_post_pulls_exactly_reward_and_fees_from_agent(escrow, usdc, agent, make_terms):
    terms = make_terms()
    agent_before, escrow_before = usdc.balanceOf(agent), usdc.balanceOf(escrow)

    escrow.postJob(terms.as_abi(), sender=agent)

    total = REWARD + PARAMS.oracle_fee + REWARD * PARAMS.protocol_fee_bps // 10_000
    assert terms.total == total
    assert usdc.balanceOf(agent) == agent_before - total
    assert usdc.balanceOf(escrow) == escrow_before + total


def test_post_emits_job_posted_with_terms_and_opens_job(escrow, usdc, agent, other_worker, make_terms):
    terms = make_terms(offered_to=str(other_worker.address), challenge_window=600, language=1)

    tx = escrow.postJob(terms.as_abi(), sender=agent)

    job_id = terms.digest()
    # A mock log cannot carry a struct (ape 0.8.51 fails to build it), so `terms` is compared apart.
    assert tx.events == [
        escrow.JobPosted(jobId=job_id, agent=agent, offeredTo=other_worker),
        usdc.Transfer(agent, escrow, terms.total),
    ]
    assert _plain(tx.events[0].terms) == _plain(terms.as_abi())
    assert escrow.jobState(job_id) == (JobStatus.OPEN, ZERO_ADDRESS, terms.accept_by)


def test_post_returns_job_id_equal_to_terms_digest(escrow, agent, make_terms):
    terms = make_terms()

    tx = escrow.postJob(terms.as_abi(), sender=agent)

    assert tx.return_value == terms.digest()
    assert escrow.jobIdOf(terms.as_abi()) == terms.digest()
    assert tx.decode_logs(escrow.JobPosted)[0].jobId == terms.digest()


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("agent", lambda now: {"agent": "0x000000000000000000000000000000000000dEaD"}),
        ("reward", lambda now: {"reward": 0}),
        ("acceptBy", lambda now: {"accept_by": now - 1}),
        ("acceptBy", lambda now: {"accept_by": now}),
        ("resolveBy", lambda now: {"resolve_by": now + 3600}),
        ("resolveBy", lambda now: {"resolve_by": now + 3599}),
        ("challengeWindow", lambda now: {"challenge_window": MAX_CHALLENGE_WINDOW + 1}),
        ("language", lambda now: {"language": 64}),
        ("language", lambda now: {"language": 255}),
    ],
    ids=[
        "agent-not-sender",
        "reward-zero",
        "accept-by-past",
        "accept-by-now",
        "resolve-by-equals-accept-by",
        "resolve-by-before-accept-by",
        "challenge-window-over-30-days",
        "language-64",
        "language-255",
    ],
)
def test_post_reverts_when_terms_invalid(chain, escrow, agent, make_terms, field, overrides):
    now = chain.pending_timestamp + 10
    terms = make_terms(**{"accept_by": now + 3600, **overrides(now)})
    chain.pending_timestamp = now

    with reverts(escrow.InvalidTerms, field=field):
        escrow.postJob(terms.as_abi(), sender=agent)


def test_post_accepts_longest_challenge_window_and_last_language(escrow, agent, make_terms):
    terms = make_terms(challenge_window=MAX_CHALLENGE_WINDOW, language=63)

    escrow.postJob(terms.as_abi(), sender=agent)

    assert escrow.jobState(terms.digest())[0] == JobStatus.OPEN


@pytest.mark.parametrize(
    "overrides",
    [{"oracle_fee": PARAMS.oracle_fee - 1}, {"protocol_fee": REWARD // 100 + 1}, {"protocol_fee": 0}],
    ids=["oracle-fee-short", "protocol-fee-over", "protocol-fee-zero"],
)
def test_post_reverts_when_fees_differ_from_quote(escrow, agent, make_terms, overrides):
    terms = make_terms(**overrides)

    with reverts(escrow.FeeMismatch, expectedOracleFee=PARAMS.oracle_fee, expectedProtocolFee=REWARD // 100):
        escrow.postJob(terms.as_abi(), sender=agent)


def test_post_reverts_when_identical_terms_already_posted(escrow, agent, make_terms):
    terms = make_terms()
    escrow.postJob(terms.as_abi(), sender=agent)

    with reverts(escrow.JobExists, jobId=terms.digest()):
        escrow.postJob(terms.as_abi(), sender=agent)


def test_post_reverts_when_identical_terms_were_posted_and_refunded(escrow, agent, make_terms):
    # A job id is used once: a cancelled job's terms cannot be posted again.
    terms = make_terms()
    escrow.postJob(terms.as_abi(), sender=agent)
    escrow.cancelJob(terms.as_abi(), sender=agent)

    with reverts(escrow.JobExists, jobId=terms.digest()):
        escrow.postJob(terms.as_abi(), sender=agent)


def test_post_reverts_when_allowance_short(escrow, usdc, agent, make_terms):
    terms = make_terms()
    usdc.approve(escrow, terms.total - 1, sender=agent)

    with reverts(
        usdc.ERC20InsufficientAllowance, spender=escrow, allowance=terms.total - 1, needed=terms.total
    ):
        escrow.postJob(terms.as_abi(), sender=agent)
    assert escrow.jobState(terms.digest())[0] == JobStatus.NONE


def test_set_paused_stops_posting(escrow, deployer, agent, make_terms):
    tx = escrow.setPaused(True, sender=deployer)

    assert tx.events == [escrow.PausedChanged(True)]
    assert escrow.paused()
    with reverts(escrow.PostingPaused):
        escrow.postJob(make_terms().as_abi(), sender=agent)


def test_set_paused_reverts_when_not_owner(escrow, stranger):
    with reverts(escrow.OwnableUnauthorizedAccount, account=stranger):
        escrow.setPaused(True, sender=stranger)


def test_unpause_resumes_posting(escrow, deployer, agent, make_terms):
    escrow.setPaused(True, sender=deployer)
    escrow.setPaused(False, sender=deployer)
    terms = make_terms()

    escrow.postJob(terms.as_abi(), sender=agent)

    assert escrow.jobState(terms.digest())[0] == JobStatus.OPEN


def test_everything_but_posting_goes_on_when_paused(
    chain, escrow, usdc, deployer, agent, worker, operators, treasury, flow, make_terms
):
    to_pay, to_cancel, to_expire = make_terms(), make_terms(), make_terms()
    for terms in (to_pay, to_cancel, to_expire):
        flow.post(terms)
    escrow.setPaused(True, sender=deployer)

    job_id = to_pay.digest()
    flow.accept(job_id, to_pay, worker)
    evidence_hash, _ = flow.submit(job_id, worker)
    flow.attest(job_id, evidence_hash, to_pay)  # pays the worker, credits the two operators
    escrow.cancelJob(to_cancel.as_abi(), sender=agent)
    chain.pending_timestamp = to_expire.accept_by + 1
    settle = escrow.settle(to_expire.as_abi(), sender=operators[2])
    withdrawal = escrow.withdrawOperatorFees(operators[0], sender=operators[0])
    collected = escrow.collectProtocolFees(sender=operators[2])

    assert escrow.jobState(job_id)[0] == JobStatus.PAID
    assert escrow.jobState(to_cancel.digest())[0] == JobStatus.REFUNDED
    assert escrow.AgentRefunded(reason=RefundReason.NOT_ACCEPTED) in settle.events
    assert withdrawal.return_value == PARAMS.oracle_fee // 2
    assert collected.return_value == to_pay.protocol_fee
    assert usdc.balanceOf(treasury) == to_pay.protocol_fee
    assert escrow.paused()


def test_post_with_permit_posts_in_one_transaction(escrow, usdc, agent, make_terms, sign_permit):
    usdc.approve(escrow, 0, sender=agent)
    terms = make_terms()
    deadline = terms.accept_by
    v, r, s = sign_permit(agent, escrow, terms.total, deadline)
    before = usdc.balanceOf(agent)

    tx = escrow.postJobWithPermit(terms.as_abi(), terms.total, deadline, v, r, s, sender=agent)

    assert tx.return_value == terms.digest()
    assert usdc.Approval(agent, escrow, terms.total) in tx.events
    assert usdc.balanceOf(agent) == before - terms.total
    assert usdc.allowance(agent, escrow) == 0
    assert usdc.nonces(agent) == 1
    assert escrow.jobState(terms.digest())[0] == JobStatus.OPEN


def test_post_with_larger_permit_leaves_the_rest_for_plain_posts(
    escrow, usdc, agent, make_terms, sign_permit
):
    usdc.approve(escrow, 0, sender=agent)
    first, second = make_terms(), make_terms()
    value = first.total + second.total + 1
    v, r, s = sign_permit(agent, escrow, value, first.accept_by)

    tx = escrow.postJobWithPermit(first.as_abi(), value, first.accept_by, v, r, s, sender=agent)

    assert usdc.Approval(agent, escrow, value) in tx.events
    assert usdc.allowance(agent, escrow) == value - first.total
    escrow.postJob(second.as_abi(), sender=agent)  # no permit, no approve: the rest of the first one
    assert usdc.allowance(agent, escrow) == 1
    assert escrow.jobState(second.digest())[0] == JobStatus.OPEN


def test_post_with_permit_still_posts_when_permit_front_run(
    escrow, usdc, agent, stranger, make_terms, sign_permit
):
    usdc.approve(escrow, 0, sender=agent)
    terms = make_terms()
    deadline = terms.accept_by
    v, r, s = sign_permit(agent, escrow, terms.total, deadline)
    usdc.permit(agent, escrow, terms.total, deadline, v, r, s, sender=stranger)

    tx = escrow.postJobWithPermit(terms.as_abi(), terms.total, deadline, v, r, s, sender=agent)

    assert tx.return_value == terms.digest()
    assert not tx.decode_logs(usdc.Approval)  # the permit failed inside; the allowance sufficed
    assert usdc.allowance(agent, escrow) == 0
    assert escrow.jobState(terms.digest())[0] == JobStatus.OPEN


def test_post_with_permit_reverts_when_permit_invalid_and_allowance_short(
    escrow, usdc, agent, make_terms, sign_permit
):
    usdc.approve(escrow, 0, sender=agent)
    terms = make_terms()
    v, r, s = sign_permit(agent, escrow, terms.total - 1, terms.accept_by)  # signs another value

    with reverts(usdc.ERC20InsufficientAllowance, spender=escrow, allowance=0, needed=terms.total):
        escrow.postJobWithPermit(terms.as_abi(), terms.total, terms.accept_by, v, r, s, sender=agent)


def test_post_with_permit_reverts_when_paused(escrow, usdc, deployer, agent, make_terms, sign_permit):
    terms = make_terms()
    v, r, s = sign_permit(agent, escrow, terms.total, terms.accept_by)
    escrow.setPaused(True, sender=deployer)

    with reverts(escrow.PostingPaused):
        escrow.postJobWithPermit(terms.as_abi(), terms.total, terms.accept_by, v, r, s, sender=agent)


def test_quote_charges_flat_oracle_fee_and_bps_rounded_down(escrow):
    assert escrow.quote(REWARD) == (PARAMS.oracle_fee, REWARD // 100)
    assert escrow.quote(199) == (PARAMS.oracle_fee, 1)
    assert escrow.quote(99) == (PARAMS.oracle_fee, 0)


def test_set_fees_changes_quote_and_emits(escrow, deployer):
    cap_bps, cap_fee = escrow.MAX_PROTOCOL_FEE_BPS(), escrow.maxOracleFee()

    tx = escrow.setFees(cap_bps, cap_fee, sender=deployer)

    assert (cap_bps, cap_fee) == (1_000, PARAMS.max_oracle_fee)
    assert tx.events == [escrow.FeesChanged(cap_bps, cap_fee)]
    assert escrow.quote(REWARD) == (cap_fee, REWARD // 10)


@pytest.mark.parametrize(
    ("bps", "oracle_fee", "fee", "cap"),
    [
        (1_001, PARAMS.oracle_fee, 1_001, 1_000),
        (100, PARAMS.max_oracle_fee + 1, PARAMS.max_oracle_fee + 1, PARAMS.max_oracle_fee),
    ],
    ids=["protocol-fee-bps", "oracle-fee"],
)
def test_set_fees_reverts_when_above_cap(escrow, deployer, bps, oracle_fee, fee, cap):
    with reverts(escrow.FeeAboveCap, fee=fee, cap=cap):
        escrow.setFees(bps, oracle_fee, sender=deployer)


def test_set_fees_reverts_when_not_owner(escrow, stranger):
    with reverts(escrow.OwnableUnauthorizedAccount, account=stranger):
        escrow.setFees(0, 0, sender=stranger)


def test_set_fees_applies_to_new_jobs_only(escrow, deployer, agent, make_terms):
    old = make_terms()
    escrow.setFees(500, 1_000_000, sender=deployer)

    with reverts(escrow.FeeMismatch, expectedOracleFee=1_000_000, expectedProtocolFee=REWARD // 20):
        escrow.postJob(old.as_abi(), sender=agent)
    escrow.postJob(make_terms().as_abi(), sender=agent)


def test_set_treasury_reverts_when_zero_or_not_owner(escrow, deployer, stranger):
    with reverts(escrow.BadWiring, what="treasury"):
        escrow.setTreasury(ZERO_ADDRESS, sender=deployer)
    with reverts(escrow.OwnableUnauthorizedAccount, account=stranger):
        escrow.setTreasury(stranger, sender=stranger)

    tx = escrow.setTreasury(stranger, sender=deployer)

    assert tx.events == [escrow.TreasuryChanged(stranger)]
    assert escrow.treasury() == stranger.address


def test_reverts_helper_fails_on_wrong_error_inputs_or_no_revert(escrow, agent, make_terms):
    # The strict `reverts` helper every test relies on must itself be able to fail.
    terms = make_terms()
    escrow.postJob(terms.as_abi(), sender=agent)

    with pytest.raises(AssertionError, match="inputs"), reverts(escrow.JobExists, jobId=b"\x01" * 32):
        escrow.postJob(terms.as_abi(), sender=agent)
    with pytest.raises(AssertionError, match="no inputs"), reverts(escrow.JobExists, job=terms.digest()):
        escrow.postJob(terms.as_abi(), sender=agent)
    with pytest.raises(AssertionError, match="expected InvalidTerms"), reverts(escrow.InvalidTerms):
        escrow.postJob(terms.as_abi(), sender=agent)
    with pytest.raises(AssertionError, match="did not revert"), reverts(escrow.JobExists):
        escrow.postJob(make_terms().as_abi(), sender=agent)


def test_quote_refuses_a_protocol_fee_beyond_64_bits_instead_of_truncating_it(escrow, deployer):
    escrow.setFees(1_000, PARAMS.oracle_fee, sender=deployer)
    fee = (2**96 - 1) * 1_000 // 10_000
    with ape.reverts() as info:  # a view: the revert data is SafeCast's error, not in the escrow's ABI
        escrow.quote(2**96 - 1)
    selector = keccak(text="SafeCastOverflowedUintDowncast(uint8,uint256)")[:4].hex()
    assert f"0x{selector}: {encode(['uint8', 'uint256'], [64, fee]).hex()}" in str(info.value)


def test_post_refuses_a_token_that_delivers_less_than_the_job_books(project, deployer, agent, make_terms):
    token = deployer.deploy(project.TestFeeToken)  # burns 1 % of every transfer
    escrow = deploy_system(project, deployer, token, PARAMS).escrow
    terms = make_terms()
    token.mint(agent, 10 * REWARD, sender=agent)
    token.approve(escrow, 2**256 - 1, sender=agent)
    total = terms.reward + terms.oracle_fee + terms.protocol_fee

    with reverts(escrow.AmountNotReceived, expected=total, received=total - total // 100):
        escrow.postJob(terms.as_abi(), sender=agent)
