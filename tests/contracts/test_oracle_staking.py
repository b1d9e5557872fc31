"""Oracle operators: governance adds and removes them; they stake, unstake after a delay, and attest."""

import pytest

from devtools.reverts import reverts
from devtools.system import PARAMS


@pytest.fixture
def newcomer(accounts):
    """A test account that was never an operator."""
    return accounts[10]


def _staked(oracle, operators):
    """What the oracle owes its operators: stakes plus stake being unstaked."""
    return sum(oracle.operatorOf(op).stake + oracle.operatorOf(op).unstaking for op in operators)


def _fund_and_approve(usdc, oracle, account, amount):
    usdc.mint(account, amount, sender=account)
    usdc.approve(oracle, amount, sender=account)


def test_add_operator_assigns_next_index_and_bumps_set_nonce(oracle, deployer, newcomer):
    nonce = oracle.setNonce()

    tx = oracle.addOperator(newcomer, sender=deployer)

    assert tx.events == [oracle.OperatorAdded(newcomer, 4, nonce + 1)]
    op = oracle.operatorOf(newcomer)
    assert (op.index, op.active, op.stake) == (4, True, 0)
    assert oracle.setNonce() == nonce + 1


def test_add_operator_reverts_when_not_owner(oracle, stranger, newcomer):
    with reverts(oracle.OwnableUnauthorizedAccount, account=stranger):
        oracle.addOperator(newcomer, sender=stranger)


def test_add_operator_reverts_when_already_active(oracle, deployer, operators):
    with reverts(oracle.OperatorStateUnchanged, operator=operators[0], active=True):
        oracle.addOperator(operators[0], sender=deployer)


def test_remove_operator_deactivates_and_bumps_set_nonce(oracle, deployer, operators):
    nonce = oracle.setNonce()

    tx = oracle.removeOperator(operators[1], sender=deployer)

    assert tx.events == [oracle.OperatorRemoved(operators[1], nonce + 1)]
    op = oracle.operatorOf(operators[1])
    assert (op.active, op.index, op.stake) == (False, 2, PARAMS.min_stake)


def test_remove_operator_reverts_when_not_owner(oracle, stranger, operators):
    with reverts(oracle.OwnableUnauthorizedAccount, account=stranger):
        oracle.removeOperator(operators[0], sender=stranger)


def test_remove_operator_reverts_when_not_active(oracle, deployer, operators, newcomer):
    with reverts(oracle.OperatorStateUnchanged, operator=newcomer, active=False):
        oracle.removeOperator(newcomer, sender=deployer)
    oracle.removeOperator(operators[0], sender=deployer)
    with reverts(oracle.OperatorStateUnchanged, operator=operators[0], active=False):
        oracle.removeOperator(operators[0], sender=deployer)


def test_readded_operator_keeps_its_index(oracle, deployer, operators):
    oracle.removeOperator(operators[0], sender=deployer)
    nonce = oracle.setNonce()

    tx = oracle.addOperator(operators[0], sender=deployer)

    assert tx.events == [oracle.OperatorAdded(operators[0], 1, nonce + 1)]


def test_set_quorum_bumps_set_nonce_and_rejects_zero(oracle, deployer, stranger):
    nonce = oracle.setNonce()

    tx = oracle.setQuorum(3, sender=deployer)

    assert tx.events == [oracle.QuorumChanged(3, nonce + 1)]
    assert oracle.quorum() == 3
    with reverts(oracle.InvalidQuorum, quorum=0):
        oracle.setQuorum(0, sender=deployer)
    with reverts(oracle.OwnableUnauthorizedAccount, account=stranger):
        oracle.setQuorum(1, sender=stranger)


def test_stake_pulls_tokens_and_adds_to_stake(oracle, usdc, deployer, newcomer):
    oracle.addOperator(newcomer, sender=deployer)
    _fund_and_approve(usdc, oracle, newcomer, PARAMS.min_stake)
    before = usdc.balanceOf(oracle)

    first = oracle.stake(PARAMS.min_stake // 4, sender=newcomer)
    second = oracle.stake(PARAMS.min_stake // 4, sender=newcomer)

    assert oracle.Staked(newcomer, PARAMS.min_stake // 4, PARAMS.min_stake // 4) in first.events
    assert oracle.Staked(newcomer, PARAMS.min_stake // 4, PARAMS.min_stake // 2) in second.events
    assert usdc.balanceOf(oracle) == before + PARAMS.min_stake // 2
    assert oracle.operatorOf(newcomer).stake == PARAMS.min_stake // 2


def test_stake_reverts_when_never_added(oracle, usdc, newcomer):
    _fund_and_approve(usdc, oracle, newcomer, PARAMS.min_stake)

    with reverts(oracle.NotActiveOperator, account=newcomer):
        oracle.stake(PARAMS.min_stake, sender=newcomer)


def test_request_unstake_moves_stake_to_unstaking(oracle, usdc, operators):
    op = operators[0]

    tx = oracle.requestUnstake(PARAMS.min_stake // 2, sender=op)

    unstake_at = tx.timestamp + PARAMS.oracle_unstake_delay
    assert tx.events == [oracle.UnstakeRequested(op, PARAMS.min_stake // 2, unstake_at)]
    record = oracle.operatorOf(op)
    assert (record.stake, record.unstaking, record.unstakeAt) == (
        PARAMS.min_stake // 2,
        PARAMS.min_stake // 2,
        unstake_at,
    )
    assert usdc.balanceOf(oracle) == _staked(oracle, operators) == 3 * PARAMS.min_stake


@pytest.mark.parametrize("amount", [0, PARAMS.min_stake + 1])
def test_request_unstake_reverts_when_amount_zero_or_above_stake(oracle, operators, amount):
    with reverts(
        oracle.StakeLocked,
        operator=operators[0],
        requested=amount,
        available=PARAMS.min_stake,
        unstakeAt=0,
    ):
        oracle.requestUnstake(amount, sender=operators[0])


def test_withdraw_stake_reverts_before_delay_and_pays_after(chain, oracle, usdc, operators):
    op = operators[0]
    unstake_at = oracle.requestUnstake(PARAMS.min_stake, sender=op).timestamp + PARAMS.oracle_unstake_delay

    chain.pending_timestamp = unstake_at - 1
    with reverts(
        oracle.StakeLocked, operator=op, requested=PARAMS.min_stake, available=0, unstakeAt=unstake_at
    ):
        oracle.withdrawStake(sender=op)

    before = usdc.balanceOf(op)
    chain.pending_timestamp = unstake_at
    tx = oracle.withdrawStake(sender=op)

    assert tx.return_value == PARAMS.min_stake
    assert tx.events == [
        oracle.StakeWithdrawn(op, PARAMS.min_stake),
        usdc.Transfer(oracle, op, PARAMS.min_stake),
    ]
    assert usdc.balanceOf(op) == before + PARAMS.min_stake
    assert oracle.operatorOf(op).unstaking == 0
    assert usdc.balanceOf(oracle) == _staked(oracle, operators)


def test_withdraw_stake_reverts_when_nothing_unstaking(oracle, operators):
    with reverts(oracle.StakeLocked, operator=operators[0], requested=0, available=0, unstakeAt=0):
        oracle.withdrawStake(sender=operators[0])


def test_removed_operator_can_still_unstake_and_withdraw(chain, oracle, usdc, deployer, operators):
    op = operators[2]
    oracle.removeOperator(op, sender=deployer)
    unstake_at = oracle.requestUnstake(PARAMS.min_stake, sender=op).timestamp + PARAMS.oracle_unstake_delay
    before = usdc.balanceOf(op)

    chain.pending_timestamp = unstake_at
    oracle.withdrawStake(sender=op)

    assert usdc.balanceOf(op) == before + PARAMS.min_stake


def test_operator_below_min_stake_cannot_attest(oracle, worker, operators, flow, make_terms):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    oracle.requestUnstake(1, sender=operators[0])

    with reverts(oracle.NotActiveOperator, account=operators[0]):
        oracle.attest(job_id, evidence_hash, True, 0, terms.as_abi(), sender=operators[0])


def test_added_operator_attests_once_staked_to_minimum(
    oracle, usdc, deployer, worker, newcomer, flow, make_terms
):
    oracle.addOperator(newcomer, sender=deployer)
    _fund_and_approve(usdc, oracle, newcomer, PARAMS.min_stake)
    oracle.stake(PARAMS.min_stake - 1, sender=newcomer)
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)

    with reverts(oracle.NotActiveOperator, account=newcomer):
        oracle.attest(job_id, evidence_hash, True, 0, terms.as_abi(), sender=newcomer)
    oracle.stake(1, sender=newcomer)
    tx = oracle.attest(job_id, evidence_hash, True, 0, terms.as_abi(), sender=newcomer)

    assert tx.events == [oracle.Attested(job_id, newcomer, evidence_hash, True, 0)]


def test_removed_operator_cannot_attest(oracle, deployer, worker, operators, flow, make_terms):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    oracle.removeOperator(operators[0], sender=deployer)

    with reverts(oracle.NotActiveOperator, account=operators[0]):
        oracle.attest(job_id, evidence_hash, True, 0, terms.as_abi(), sender=operators[0])


def test_removed_operators_earlier_attestation_still_counts(
    escrow, oracle, deployer, worker, operators, flow, make_terms
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    flow.attest(job_id, evidence_hash, terms, operators=operators[:1])
    oracle.removeOperator(operators[0], sender=deployer)

    (final,) = flow.attest(job_id, evidence_hash, terms, operators=operators[1:2])

    assert oracle.VerdictReached(job_id, evidence_hash, True, 0, 0b011) in final.events
    assert escrow.operatorFeesOf(operators[0]) == PARAMS.oracle_fee // 2


def test_add_operator_reverts_when_set_full(oracle, deployer, operators, accounts):
    # About two seconds on anvil: 125 adds fill the 128 mask bits.
    for _ in range(oracle.MAX_OPERATORS() - len(operators)):
        last = oracle.addOperator(accounts.generate_test_account(), sender=deployer)
    assert last.decode_logs(oracle.OperatorAdded)[0].index == 128
    oracle.removeOperator(operators[0], sender=deployer)  # a freed seat does not free its bit

    with reverts(oracle.OperatorSetFull, max=128):
        oracle.addOperator(accounts.generate_test_account(), sender=deployer)
    oracle.addOperator(operators[0], sender=deployer)  # a former operator gets its own bit back
    assert oracle.operatorOf(operators[0]).index == 1


def test_request_unstake_never_restarts_the_delay_of_an_amount_already_unstaking(chain, oracle, operators):
    op = operators[0]
    requested = oracle.requestUnstake(PARAMS.min_stake // 2, sender=op)
    unstake_at = requested.timestamp + PARAMS.oracle_unstake_delay

    with reverts(oracle.UnstakePending, operator=op, pending=PARAMS.min_stake // 2, unstakeAt=unstake_at):
        oracle.requestUnstake(1, sender=op)
    assert oracle.operatorOf(op).unstakeAt == unstake_at
    chain.pending_timestamp = unstake_at
    oracle.withdrawStake(sender=op)
    oracle.requestUnstake(1, sender=op)
