"""Oracle operators stay liable for a verdict they attested until it can no longer be overturned."""

import ape
import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from devtools.reverts import reverts
from devtools.system import PARAMS
from scripts._reverts import decode_revert, explain
from tests.contracts.arbitration_helpers import Ruling, everyone, rule

SLASH = PARAMS.oracle_slash
MAX_CHALLENGE_WINDOW = 30 * 24 * 3600  # JobEscrow.MAX_CHALLENGE_WINDOW
DISPUTE_TIMEOUT = 30 * 24 * 3600  # JobEscrow.DISPUTE_TIMEOUT


def _unstake_at(oracle, operators):
    """The latest moment any of `operators` may withdraw by the delay alone."""
    return max(oracle.operatorOf(op).unstakeAt for op in operators)


def _rule(court, dispute_id, ruling):
    """The panel is drawn at once (a draw waits at most a day) and its ruling delivered; nobody settles."""
    rule(court.pool, court.chain, dispute_id, court.arbitrators, everyone(ruling))


def _held(court, operators, disputed=1):
    """Each of `operators` is refused its withdrawal because of `disputed` unsettled disputes."""
    for op in operators:
        with reverts(court.oracle.StakeHeldByDisputes, operator=op, disputedVerdicts=disputed):
            court.oracle.withdrawStake(sender=op)


def test_operators_who_unstake_at_once_after_approving_are_slashed_by_a_late_settled_ruling(court):
    """The escape of issue 9: approve, request unstake at once, wait out the delay while the
    overturning ruling is on its way (or delivered and not yet carried out), withdraw."""
    oracle, attesters = court.oracle, court.operators[:2]
    terms, job_id = court.jobs.verdict(approve=True)
    for op in attesters:
        oracle.requestUnstake(PARAMS.min_stake, sender=op)
    dispute_id, tx = court.jobs.dispute(terms, court.agent)
    assert oracle.VerdictHeld(job_id, 0b011) in tx.events
    rule(court.pool, court.chain, dispute_id, court.arbitrators, everyone(Ruling.REFUND_AGENT))

    court.chain.pending_timestamp = _unstake_at(oracle, attesters)
    _held(court, attesters)
    tx = court.escrow.settle(terms.as_abi(), sender=court.stranger)

    assert tx.events.filter(oracle.Slashed) == [oracle.Slashed(job_id, op, SLASH) for op in attesters]
    assert tx.events.filter(oracle.VerdictReleased) == [oracle.VerdictReleased(job_id, 0b011, True)]
    for op in attesters:
        assert oracle.disputedVerdicts(op) == 0
        withdrawn = oracle.withdrawStake(sender=op)
        assert withdrawn.events.filter(oracle.StakeWithdrawn) == [
            oracle.StakeWithdrawn(op, PARAMS.min_stake - SLASH)
        ]
    court.check_books([court.agent, court.worker, *court.operators])


def test_stake_unstaked_at_the_verdict_outlasts_the_longest_challenge_window(court):
    """Nothing is disputed yet when the delay could end: the delay outlives the window, and a
    dispute at the window's last second holds the stake."""
    oracle, attesters = court.oracle, court.operators[:2]
    terms, job_id = court.jobs.verdict(approve=True, window=MAX_CHALLENGE_WINDOW)
    for op in attesters:
        oracle.requestUnstake(PARAMS.min_stake, sender=op)
    window_end = court.escrow.jobState(job_id)[2]
    assert _unstake_at(oracle, attesters) > window_end

    court.chain.pending_timestamp = window_end
    dispute_id, _ = court.jobs.dispute(terms, court.agent)
    _rule(court, dispute_id, Ruling.REFUND_AGENT)
    court.chain.pending_timestamp = _unstake_at(oracle, attesters)
    _held(court, attesters)
    tx = court.escrow.settle(terms.as_abi(), sender=court.stranger)

    assert tx.events.filter(oracle.Slashed) == [oracle.Slashed(job_id, op, SLASH) for op in attesters]


def test_unstake_delay_is_longer_than_verification_and_challenge_windows_together(oracle, escrow):
    assert oracle.unstakeDelay() > escrow.MAX_CHALLENGE_WINDOW() + escrow.verificationWindow()


def test_escrow_refuses_an_oracle_whose_unstake_delay_ends_within_a_challenge_window(
    project, deployer, usdc, system
):
    """Deployed as deploy_system does, with the delay one second short of the floor."""
    p = PARAMS
    escrow_address = deployer.get_deployment_address(deployer.nonce + 2)
    registry = deployer.deploy(project.WorkerRegistry, escrow_address, deployer)
    too_short = MAX_CHALLENGE_WINDOW + p.verification_window
    oracle = deployer.deploy(
        project.VerificationOracle,
        usdc, escrow_address, deployer, p.quorum, p.min_stake, too_short, p.oracle_slash,
    )  # fmt: skip
    config = (
        usdc, registry, oracle, system.arbitrator, deployer, deployer,
        p.verification_window, p.max_oracle_fee, p.dispute_bond_min, p.dispute_bond_bps,
        p.bond_pool_share_bps, p.wronged_share_bps, p.meta_evidence_uri,
    )  # fmt: skip

    with ape.reverts(project.JobEscrow.BadWiring, what="oracle.unstakeDelay"):  # no contract to check yet
        deployer.deploy(project.JobEscrow, config)


def test_upheld_verdict_releases_the_hold_and_slashes_nobody(court):
    oracle, attesters = court.oracle, court.operators[:2]
    terms, job_id = court.jobs.verdict(approve=True)
    for op in attesters:
        oracle.requestUnstake(PARAMS.min_stake, sender=op)
    dispute_id, _ = court.jobs.dispute(terms, court.agent)
    assert [oracle.disputedVerdicts(op) for op in court.operators] == [1, 1, 0]

    tx = court.rule_and_settle(dispute_id, terms, Ruling.PAY_WORKER)

    assert tx.events.filter(oracle.Slashed) == []
    assert tx.events.filter(oracle.VerdictReleased) == [oracle.VerdictReleased(job_id, 0b011, False)]
    assert [oracle.disputedVerdicts(op) for op in court.operators] == [0, 0, 0]
    assert oracle.verdictAttesters(job_id) == 0
    court.chain.pending_timestamp = _unstake_at(oracle, attesters)
    for op in attesters:
        assert oracle.withdrawStake(sender=op).return_value == PARAMS.min_stake


def test_dispute_without_a_ruling_holds_until_anyone_settles_it_after_the_timeout(court):
    """The operator is never stuck: after the escrow's timeout it may settle the dispute itself."""
    oracle, op = court.oracle, court.operators[0]
    terms, job_id = court.jobs.verdict(approve=True)
    oracle.requestUnstake(PARAMS.min_stake, sender=op)
    court.jobs.dispute(terms, court.agent)
    timeout = court.escrow.jobState(job_id)[2]
    court.chain.pending_timestamp = max(timeout, _unstake_at(oracle, [op]))
    _held(court, [op])

    court.chain.pending_timestamp = max(timeout + 1, _unstake_at(oracle, [op]))
    tx = court.escrow.settle(terms.as_abi(), sender=op)

    assert tx.events.filter(oracle.Slashed) == []
    assert oracle.withdrawStake(sender=op).return_value == PARAMS.min_stake


def test_each_disputed_verdict_holds_until_its_own_dispute_settles(court):
    oracle, op = court.oracle, court.operators[0]
    first, _ = court.jobs.verdict(approve=True)
    second, second_id = court.jobs.verdict(approve=True)
    oracle.requestUnstake(PARAMS.min_stake, sender=op)
    first_dispute, _ = court.jobs.dispute(first, court.agent)
    second_dispute, _ = court.jobs.dispute(second, court.agent)
    assert oracle.disputedVerdicts(op) == 2

    court.rule_and_settle(first_dispute, first, Ruling.PAY_WORKER)
    _rule(court, second_dispute, Ruling.REFUND_AGENT)
    court.chain.pending_timestamp = _unstake_at(oracle, [op])
    _held(court, [op], disputed=1)
    tx = court.escrow.settle(second.as_abi(), sender=court.stranger)

    assert oracle.Slashed(second_id, op, SLASH) in tx.events
    assert oracle.withdrawStake(sender=op).return_value == PARAMS.min_stake - SLASH


def test_removing_an_operator_keeps_it_liable_for_its_verdicts(court):
    oracle, removed = court.oracle, court.operators[0]
    terms, job_id = court.jobs.verdict(approve=True)
    dispute_id, _ = court.jobs.dispute(terms, court.agent)
    oracle.removeOperator(removed, sender=court.deployer)
    oracle.requestUnstake(PARAMS.min_stake, sender=removed)
    _rule(court, dispute_id, Ruling.REFUND_AGENT)
    court.chain.pending_timestamp = _unstake_at(oracle, [removed])
    _held(court, [removed])

    tx = court.escrow.settle(terms.as_abi(), sender=court.stranger)

    assert oracle.Slashed(job_id, removed, SLASH) in tx.events
    assert oracle.withdrawStake(sender=removed).return_value == PARAMS.min_stake - SLASH


def test_attestation_made_before_a_lowered_quorum_keeps_its_operator_liable(court):
    """Operator 0 attests under quorum 2 and unstakes everything at once; governance lowers the
    quorum and operator 1's attestation makes a verdict that counts operator 0's as well."""
    oracle, early, late = court.oracle, court.operators[0], court.operators[1]
    terms, job_id = court.jobs.submitted()
    evidence_hash = court.escrow.verificationContext(job_id)[1]
    oracle.attest(job_id, evidence_hash, True, 0, terms.as_abi(), sender=early)
    oracle.requestUnstake(PARAMS.min_stake, sender=early)
    oracle.setQuorum(1, sender=court.deployer)
    final = oracle.attest(job_id, evidence_hash, True, 0, terms.as_abi(), sender=late)
    assert oracle.VerdictReached(job_id, evidence_hash, True, 0, 0b011) in final.events
    dispute_id, _ = court.jobs.dispute(terms, court.agent)
    _rule(court, dispute_id, Ruling.REFUND_AGENT)
    court.chain.pending_timestamp = _unstake_at(oracle, [early])
    _held(court, [early])

    tx = court.escrow.settle(terms.as_abi(), sender=court.stranger)

    assert tx.events.filter(oracle.Slashed) == [oracle.Slashed(job_id, op, SLASH) for op in (early, late)]
    assert oracle.operatorOf(early).unstaking == PARAMS.min_stake - SLASH


def test_operator_with_a_pending_unstake_attests_and_its_pending_amount_is_held_too(court):
    """The pending amount no longer counts toward minStake, but a dispute holds everything."""
    oracle, usdc, op = court.oracle, court.usdc, court.operators[0]
    usdc.mint(op, PARAMS.min_stake, sender=op)
    usdc.approve(oracle, PARAMS.min_stake, sender=op)
    oracle.stake(PARAMS.min_stake, sender=op)
    oracle.requestUnstake(PARAMS.min_stake, sender=op)
    terms, job_id = court.jobs.verdict(approve=True)
    dispute_id, _ = court.jobs.dispute(terms, court.agent)
    _rule(court, dispute_id, Ruling.REFUND_AGENT)
    court.chain.pending_timestamp = _unstake_at(oracle, [op])
    _held(court, [op])

    tx = court.escrow.settle(terms.as_abi(), sender=court.stranger)

    assert oracle.Slashed(job_id, op, SLASH) in tx.events
    record = oracle.operatorOf(op)
    assert (record.stake, record.unstaking) == (PARAMS.min_stake - SLASH, PARAMS.min_stake)
    assert oracle.withdrawStake(sender=op).return_value == PARAMS.min_stake


@pytest.mark.parametrize("left_staked", [SLASH // 2, 0])
def test_slash_takes_stake_first_then_the_amount_being_unstaked(court, left_staked):
    oracle, op = court.oracle, court.operators[0]
    terms, job_id = court.jobs.verdict(approve=True)
    oracle.requestUnstake(PARAMS.min_stake - left_staked, sender=op)
    dispute_id, _ = court.jobs.dispute(terms, court.agent)

    tx = court.rule_and_settle(dispute_id, terms, Ruling.REFUND_AGENT)

    assert oracle.Slashed(job_id, op, SLASH) in tx.events
    record = oracle.operatorOf(op)
    assert (record.stake, record.unstaking) == (0, PARAMS.min_stake - SLASH)
    court.chain.pending_timestamp = record.unstakeAt
    assert oracle.withdrawStake(sender=op).return_value == PARAMS.min_stake - SLASH


def test_an_overturned_rejection_holds_and_slashes_its_attesters(court):
    oracle, attesters = court.oracle, court.operators[:2]
    terms, job_id = court.jobs.verdict(approve=False)
    for op in attesters:
        oracle.requestUnstake(PARAMS.min_stake, sender=op)
    dispute_id, _ = court.jobs.dispute(terms, court.worker, from_reward=True)
    _rule(court, dispute_id, Ruling.PAY_WORKER)
    court.chain.pending_timestamp = _unstake_at(oracle, attesters)
    _held(court, attesters)

    tx = court.escrow.settle(terms.as_abi(), sender=court.stranger)

    assert tx.events.filter(oracle.Slashed) == [oracle.Slashed(job_id, op, SLASH) for op in attesters]


@pytest.mark.parametrize("function", ["holdVerdict", "releaseVerdict", "slashVerdict"])
def test_only_the_escrow_holds_releases_or_slashes(oracle, stranger, function):
    with reverts(oracle.CallerNotEscrow, caller=stranger):
        getattr(oracle, function)(b"\x01" * 32, sender=stranger)


def test_ops_explains_a_held_withdrawal_in_one_line(oracle, operators):
    """`ape run ops operator withdraw` decodes the revert with the shipped ABI and says what to do."""
    data = function_signature_to_4byte_selector("StakeHeldByDisputes(address,uint256)") + encode(
        ["address", "uint256"], [str(operators[0].address), 2]
    )

    line = explain(decode_revert(data))

    assert line == (
        f"{operators[0].address} attested 2 verdict(s) still under dispute: its stake stays slashable until "
        "they settle (`ape run ops job settle JOB`, by anyone, after the ruling or the escrow's 30-day "
        "dispute timeout); withdraw then"
    )
    assert "\n" not in line
