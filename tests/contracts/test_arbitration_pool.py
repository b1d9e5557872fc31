"""Arbitration rounds: drawing panels, hidden votes, the tally, paying panels, delivering the ruling."""

import os

import pytest
from eth_abi import encode
from eth_utils import keccak

from devtools.reverts import reverts
from devtools.system import PARAMS
from protocol_core.arbitration import commitment
from tests.contracts.arbitration_helpers import (
    ARBITRATOR_STAKE,
    FIRST_FEE,
    LOCK,
    USDC,
    Phase,
    after_appeal_window,
    commit_votes,
    draw,
    everyone,
    open_dispute,
    payouts,
    pool_owes,
    reveal_votes,
    rule,
    seats,
    stake_new,
    vote_round,
)

MIN = PARAMS.arbitrator_min_stake
COMMIT_SECONDS, REVEAL_SECONDS = PARAMS.commit_minutes * 60, PARAMS.reveal_minutes * 60
APPEAL_SECONDS = PARAMS.appeal_minutes * 60


def _request_of(tx, pool):
    return tx.events.filter(pool.RandomnessRequested)[-1].requestId


def _holder_of(slots, point):
    """The arbitrator whose interval [stakes before it, + its stake) holds `point`."""
    for address, stake in slots:
        if point < stake:
            return address
        point -= stake
    raise AssertionError("point beyond total stake")


def _model_draw(chain, request_id, dispute_id, slots, free, needed=3):
    """The spec's draw, without replacement: point i = keccak(seed, dispute, round 0, i) mod the
    stake not yet seen, mapped over the intervals of those already seen, falls into a slot; every
    candidate is then cut out, seated only if it has a free lock."""
    block_hash = chain.provider.get_block(request_id).hash
    seed = int.from_bytes(keccak(encode(["bytes32", "uint256"], [block_hash, request_id])), "big")
    starts, start = {}, 0
    for address, stake in slots:
        starts[address] = start
        start += stake
    weights = dict(slots)
    remaining = start
    cuts: list[tuple[int, int]] = []
    panel = []
    i = 0
    while len(panel) < needed and remaining and i < needed * 8:
        point = int.from_bytes(keccak(encode(["uint256"] * 4, [seed, dispute_id, 0, i])), "big") % remaining
        i += 1
        for cut_start, cut_weight in sorted(cuts):
            if cut_start <= point:
                point += cut_weight
        address = _holder_of(slots, point)
        cuts.append((starts[address], weights[address]))
        remaining -= weights[address]
        if free[address] >= LOCK:
            panel.append(address)
            free[address] -= LOCK
    return panel


# Drawing


def test_draw_reverts_randomness_not_ready_in_the_request_block(pool, usdc, arbitrators, claimant):
    dispute_id, tx = open_dispute(pool, usdc, claimant)
    request_id = _request_of(tx, pool)
    assert request_id == tx.block_number + 1

    with reverts(pool.RandomnessNotReady, disputeId=dispute_id, requestId=request_id):
        pool.draw(dispute_id, sender=claimant)  # mined in block `request_id`, whose hash is unknown


def test_draw_seats_three_distinct_staked_arbitrators_and_locks_each(
    chain, pool, usdc, arbitrators, claimant
):
    dispute_id, _ = open_dispute(pool, usdc, claimant)
    total = pool.totalStake()

    panel, tx = draw(pool, chain, dispute_id, claimant)

    assert len(panel) == 3 == len(set(panel))
    assert set(panel) <= set(arbitrators)
    for address in panel:
        assert pool.arbitratorOf(address)[:2] == (ARBITRATOR_STAKE, LOCK)
    drawn_at = chain.blocks[tx.block_number].timestamp
    commit_end, reveal_end = drawn_at + COMMIT_SECONDS, drawn_at + COMMIT_SECONDS + REVEAL_SECONDS
    assert tx.events == [pool.Drawn(dispute_id, 0, a, commit_end, reveal_end) for a in panel]
    view = pool.roundOf(dispute_id, 0)
    assert (view.panelSize, view.commitEnd, view.revealEnd) == (
        3,
        drawn_at + COMMIT_SECONDS,
        drawn_at + COMMIT_SECONDS + REVEAL_SECONDS,
    )
    assert pool.phase(dispute_id) == Phase.COMMIT
    assert pool.totalStake() == total  # locked stake stays in the draw, it only is not free


def test_draw_picks_arbitrators_by_stake_weight(chain, accounts, usdc, fresh_pool, claimant):
    stakes = [100 * USDC, 1_500 * USDC, 50 * USDC, 400 * USDC, 250 * USDC, 800 * USDC]
    staked = stake_new(accounts, usdc, fresh_pool, stakes)
    leaver = list(staked)[2]
    fresh_pool.requestUnstake(50 * USDC, sender=staked[leaver])  # weight 0: never drawn
    slots = [(a, 0 if a == leaver else s) for a, s in zip(staked, stakes, strict=True)]
    free = dict(slots)

    seen = set()
    for _ in range(8):
        dispute_id, tx = open_dispute(fresh_pool, usdc, claimant)
        chain.mine(2)
        expected = _model_draw(chain, _request_of(tx, fresh_pool), dispute_id, slots, dict(free))
        if len(expected) < 3:  # unlucky points: the draw gives up after eight tries per seat
            with reverts(
                fresh_pool.NotEnoughArbitrators, disputeId=dispute_id, drawn=len(expected), needed=3
            ):
                fresh_pool.draw(dispute_id, sender=claimant)
            continue
        fresh_pool.draw(dispute_id, sender=claimant)
        assert [str(a) for a in fresh_pool.roundOf(dispute_id, 0).panel] == expected
        for address in expected:
            free[address] -= LOCK
        seen.update(expected)
    assert leaver not in seen
    assert list(staked)[1] in seen  # half of all weight


def test_draw_re_requests_randomness_once_the_request_expired(chain, pool, usdc, arbitrators, claimant):
    dispute_id, opened = open_dispute(pool, usdc, claimant)
    chain.mine(300)  # blockhash only reaches 256 blocks back

    tx = pool.draw(dispute_id, sender=claimant)

    assert tx.events == [
        pool.RandomnessExpired(dispute_id, 0, _request_of(opened, pool)),
        pool.RandomnessRequested(dispute_id, 0, tx.block_number + 1),
    ]
    assert pool.phase(dispute_id) == Phase.DRAWING
    assert pool.roundOf(dispute_id, 0).panel == []
    with reverts(pool.RandomnessNotReady, disputeId=dispute_id, requestId=tx.block_number + 1):
        pool.draw(dispute_id, sender=claimant)
    panel, _ = draw(pool, chain, dispute_id, claimant)
    assert len(panel) == 3


def test_draw_reverts_not_enough_arbitrators_and_stakes_placed_meanwhile_wait_for_the_next_round(
    chain, accounts, usdc, fresh_pool, claimant
):
    dispute_id, _ = open_dispute(fresh_pool, usdc, claimant)
    chain.mine(2)
    with reverts(fresh_pool.NotEnoughArbitrators, disputeId=dispute_id, drawn=0, needed=3):
        fresh_pool.draw(dispute_id, sender=claimant)
    three = stake_new(accounts, usdc, fresh_pool, [MIN, MIN, MIN])

    # Staked after the request: held, but not drawable for this round.
    with reverts(fresh_pool.NotEnoughArbitrators, disputeId=dispute_id, drawn=0, needed=3):
        fresh_pool.draw(dispute_id, sender=claimant)
    assert fresh_pool.totalStake() == 0
    assert all(fresh_pool.queuedOf(a) == (MIN, 0) for a in three)
    assert usdc.balanceOf(fresh_pool) == FIRST_FEE + 3 * MIN
    chain.pending_timestamp = fresh_pool.roundOf(dispute_id, 0).drawBy + 1
    fresh_pool.executeRuling(dispute_id, sender=claimant)  # the round lapses
    applied = fresh_pool.applyQueuedStakes(list(three), sender=claimant)

    assert applied.events == [fresh_pool.StakeChanged(a, MIN) for a in three]
    assert fresh_pool.totalStake() == 3 * MIN
    second, _ = open_dispute(fresh_pool, usdc, claimant)
    panel, _ = draw(fresh_pool, chain, second, claimant)
    assert set(panel) == set(three)
    assert all(fresh_pool.arbitratorOf(a).locked == LOCK for a in three)


def test_draw_seats_three_arbitrators_whatever_their_stakes(chain, accounts, usdc, fresh_pool, claimant):
    # Three arbitrators with free stake can always make a panel of three, a large stake within
    # maxStake included; the draw must not give up while they are there.
    stake_new(accounts, usdc, fresh_pool, [PARAMS.arbitrator_max_stake, MIN, MIN])

    for _ in range(3):
        dispute_id, _ = open_dispute(fresh_pool, usdc, claimant)
        panel, _ = draw(fresh_pool, chain, dispute_id, claimant)
        assert len(set(panel)) == 3


def test_draw_skips_arbitrators_without_a_free_lock(chain, accounts, usdc, fresh_pool, claimant):
    staked = stake_new(accounts, usdc, fresh_pool, [MIN] * 3)
    slots = [(a, MIN) for a in staked]
    free = dict(slots)
    while any(free.values()):  # each holds MIN / LOCK = 5 seats
        dispute_id, tx = open_dispute(fresh_pool, usdc, claimant)
        chain.mine(2)
        expected = _model_draw(chain, _request_of(tx, fresh_pool), dispute_id, slots, dict(free))
        if len(expected) == 3:  # otherwise unlucky points; the next dispute tries again
            fresh_pool.draw(dispute_id, sender=claimant)
            free = {a: f - LOCK for a, f in free.items()}
    assert all(fresh_pool.arbitratorOf(a)[:2] == (MIN, MIN) for a in staked)

    dispute_id, _ = open_dispute(fresh_pool, usdc, claimant)
    chain.mine(2)
    with reverts(fresh_pool.NotEnoughArbitrators, disputeId=dispute_id, drawn=0, needed=3):
        fresh_pool.draw(dispute_id, sender=claimant)


def test_draw_reverts_wrong_phase_once_drawn(chain, pool, usdc, arbitrators, claimant):
    dispute_id, _ = open_dispute(pool, usdc, claimant)
    draw(pool, chain, dispute_id, claimant)

    with reverts(pool.WrongPhase, disputeId=dispute_id, actual=Phase.COMMIT, expected=Phase.DRAWING):
        pool.draw(dispute_id, sender=claimant)


def test_create_dispute_reverts_for_other_choices_or_a_short_fee(pool, usdc, claimant):
    usdc.approve(pool, 2**256 - 1, sender=claimant)

    with reverts(pool.UnsupportedChoices, choices=3):
        pool.createDispute(3, b"", usdc, FIRST_FEE, sender=claimant)
    with reverts(pool.FeeNotAccepted, feeToken=usdc, feeAmount=FIRST_FEE - 1, cost=FIRST_FEE):
        pool.createDispute(2, b"", usdc, FIRST_FEE - 1, sender=claimant)
    with reverts(pool.FeeNotAccepted, feeToken=claimant, feeAmount=0, cost=0):
        pool.createDispute(2, b"", claimant, FIRST_FEE, sender=claimant)


# Commit and reveal


@pytest.fixture
def drawn(chain, pool, usdc, arbitrators, claimant):
    """A dispute opened by `claimant` whose first panel is drawn; (dispute id, panel)."""
    dispute_id, _ = open_dispute(pool, usdc, claimant)
    panel, _ = draw(pool, chain, dispute_id, claimant)
    return dispute_id, panel


def test_commit_accepted_at_commit_end_and_rejected_one_second_later(chain, pool, arbitrators, drawn):
    dispute_id, panel = drawn
    view = pool.roundOf(dispute_id, 0)

    chain.pending_timestamp = view.commitEnd
    tx = pool.commit(
        dispute_id, commitment(dispute_id, 0, panel[0], 1, b"s" * 32), sender=arbitrators[panel[0]]
    )
    chain.pending_timestamp = view.commitEnd + 1
    with reverts(pool.WrongPhase, disputeId=dispute_id, actual=Phase.REVEAL, expected=Phase.COMMIT):
        pool.commit(
            dispute_id, commitment(dispute_id, 0, panel[1], 1, b"s" * 32), sender=arbitrators[panel[1]]
        )

    assert tx.events == [pool.VoteCommitted(dispute_id, 0, panel[0])]


def test_reveal_opens_one_second_after_commit_end_and_closes_at_reveal_end(chain, pool, arbitrators, drawn):
    dispute_id, panel = drawn
    votes = commit_votes(pool, dispute_id, arbitrators, dict.fromkeys(panel, 1))
    view = pool.roundOf(dispute_id, 0)
    first, second, third = ((arbitrators[a], votes[a].salt) for a in panel)

    chain.pending_timestamp = view.commitEnd
    with reverts(pool.WrongPhase, disputeId=dispute_id, actual=Phase.COMMIT, expected=Phase.REVEAL):
        pool.reveal(dispute_id, 1, first[1], sender=first[0])
    chain.pending_timestamp = view.commitEnd + 1
    tx = pool.reveal(dispute_id, 1, first[1], sender=first[0])
    chain.pending_timestamp = view.revealEnd
    pool.reveal(dispute_id, 1, second[1], sender=second[0])
    chain.pending_timestamp = view.revealEnd
    with reverts(pool.WrongPhase, disputeId=dispute_id, actual=Phase.REVEAL, expected=Phase.TALLY):
        pool.tally(dispute_id, sender=first[0])
    chain.pending_timestamp = view.revealEnd + 1
    with reverts(pool.WrongPhase, disputeId=dispute_id, actual=Phase.TALLY, expected=Phase.REVEAL):
        pool.reveal(dispute_id, 1, third[1], sender=third[0])

    assert tx.events == [pool.VoteRevealed(dispute_id, 0, panel[0], 1)]
    assert pool.roundOf(dispute_id, 0).votes == [0, 2, 0]


def test_copied_commitment_cannot_be_revealed_by_the_copier(chain, pool, arbitrators, drawn):
    dispute_id, panel = drawn
    author, copier = panel[0], panel[1]
    salt = os.urandom(32)
    hidden = commitment(dispute_id, 0, author, 2, salt)
    pool.commit(dispute_id, hidden, sender=arbitrators[author])
    pool.commit(dispute_id, hidden, sender=arbitrators[copier])  # accepted, but bound to the author
    chain.mine(timestamp=pool.roundOf(dispute_id, 0).commitEnd + 1)

    with reverts(pool.CommitmentMismatch, disputeId=dispute_id, arbitrator=copier):
        pool.reveal(dispute_id, 2, salt, sender=arbitrators[copier])
    pool.reveal(dispute_id, 2, salt, sender=arbitrators[author])

    assert pool.roundOf(dispute_id, 0).votes == [0, 0, 1]


def test_reveal_reverts_commitment_mismatch_for_another_salt_or_choice(chain, pool, arbitrators, drawn):
    dispute_id, panel = drawn
    votes = commit_votes(pool, dispute_id, arbitrators, {panel[0]: 1})
    salt, signer = votes[panel[0]].salt, arbitrators[panel[0]]
    chain.mine(timestamp=pool.roundOf(dispute_id, 0).commitEnd + 1)

    for choice, other_salt in [(1, os.urandom(32)), (2, salt), (0, salt)]:
        with reverts(pool.CommitmentMismatch, disputeId=dispute_id, arbitrator=panel[0]):
            pool.reveal(dispute_id, choice, other_salt, sender=signer)
    pool.reveal(dispute_id, 1, salt, sender=signer)

    assert pool.roundOf(dispute_id, 0).votes == [0, 1, 0]


def test_commit_reverts_invalid_commitment_for_reserved_values(pool, arbitrators, drawn):
    dispute_id, panel = drawn
    signer = arbitrators[panel[0]]

    for value in range(5):
        reserved = value.to_bytes(32, "big")
        with reverts(pool.InvalidCommitment, commitment=reserved):
            pool.commit(dispute_id, reserved, sender=signer)
    tx = pool.commit(dispute_id, (5).to_bytes(32, "big"), sender=signer)  # the first value not reserved

    assert tx.events == [pool.VoteCommitted(dispute_id, 0, str(signer.address))]


def test_commit_reverts_not_on_panel_for_an_outsider_and_a_second_commit(pool, arbitrators, drawn):
    dispute_id, panel = drawn
    outsider = next(a for a in arbitrators if a not in panel)
    pool.commit(dispute_id, commitment(dispute_id, 0, panel[0], 1, b"a" * 32), sender=arbitrators[panel[0]])

    with reverts(pool.NotOnPanel, disputeId=dispute_id, account=outsider):
        pool.commit(
            dispute_id, commitment(dispute_id, 0, outsider, 1, b"a" * 32), sender=arbitrators[outsider]
        )
    with reverts(pool.NotOnPanel, disputeId=dispute_id, account=panel[0]):
        pool.commit(
            dispute_id, commitment(dispute_id, 0, panel[0], 2, b"b" * 32), sender=arbitrators[panel[0]]
        )


def test_reveal_reverts_not_on_panel_for_outsider_uncommitted_and_second_reveal(
    chain, pool, arbitrators, drawn
):
    dispute_id, panel = drawn
    outsider = next(a for a in arbitrators if a not in panel)
    votes = commit_votes(pool, dispute_id, arbitrators, {panel[0]: 1})
    chain.mine(timestamp=pool.roundOf(dispute_id, 0).commitEnd + 1)
    reveal_votes(pool, dispute_id, arbitrators, votes)

    for account in (outsider, panel[1], panel[0]):
        with reverts(pool.NotOnPanel, disputeId=dispute_id, account=account):
            pool.reveal(dispute_id, 1, votes[panel[0]].salt, sender=arbitrators[account])
    assert pool.roundOf(dispute_id, 0).votes == [0, 1, 0]


def test_reveal_reverts_invalid_choice_above_two(chain, pool, arbitrators, drawn):
    dispute_id, panel = drawn
    salt = b"c" * 32
    pool.commit(dispute_id, commitment(dispute_id, 0, panel[0], 3, salt), sender=arbitrators[panel[0]])
    chain.mine(timestamp=pool.roundOf(dispute_id, 0).commitEnd + 1)

    with reverts(pool.InvalidChoice, choice=3):
        pool.reveal(dispute_id, 3, salt, sender=arbitrators[panel[0]])


# Tally


@pytest.mark.parametrize(
    ("votes", "ruling"),
    [((1, 1, 2), 1), ((2, 2, 2), 2), ((2, None, 2), 2), ((0, 0, 1), 0), ((1, None, None), 1)],
)
def test_tally_rules_by_majority(chain, pool, usdc, arbitrators, claimant, votes, ruling):
    dispute_id, _ = open_dispute(pool, usdc, claimant)

    result = vote_round(pool, chain, dispute_id, arbitrators, seats(*votes))

    tallied_at = chain.blocks[result.tally.block_number].timestamp
    assert result.tally.events == [pool.Tallied(dispute_id, 0, ruling, False, tallied_at + APPEAL_SECONDS)]
    assert pool.currentRuling(dispute_id) == (ruling, False, False)
    assert pool.phase(dispute_id) == Phase.APPEALABLE


@pytest.mark.parametrize("votes", [(1, 2, None), (None, None, None), (0, 1, 2)])
def test_tally_of_a_tie_or_no_reveals_rules_split(chain, pool, usdc, arbitrators, claimant, votes):
    dispute_id, _ = open_dispute(pool, usdc, claimant)

    result = vote_round(pool, chain, dispute_id, arbitrators, seats(*votes))

    assert result.tally.events.filter(pool.Tallied)[0].tied
    assert pool.currentRuling(dispute_id) == (0, True, False)


# Paying the panel


@pytest.fixture
def escrow_dispute(jobs, agent):
    """An approval the agent disputed: the pool's arbitrable is the real escrow; (dispute id, terms)."""
    terms, _ = jobs.verdict(approve=True)
    dispute_id, _ = jobs.dispute(terms, agent)
    return dispute_id, terms


@pytest.mark.parametrize("third", [2, 0, None], ids=["against", "split-vote", "silent"])
def test_execute_ruling_pays_coherent_voters_and_penalizes_the_others(
    chain, usdc, deployer, escrow, pool, arbitrators, claimant, jobs, agent, third
):
    usdc.approve(pool, 1, sender=claimant)
    pool.fundRewards(1, sender=claimant)  # an odd pot, so that there is dust
    terms, _ = jobs.verdict(approve=True)
    dispute_id, _ = jobs.dispute(terms, agent)
    assert pool.roundOf(dispute_id, 0).fee == FIRST_FEE + 1
    assert pool.rewardReserve() == 0
    total = pool.totalStake()

    result, tx = rule(pool, chain, dispute_id, arbitrators, seats(1, 1, third))

    first, second, other = result.panel
    pot = FIRST_FEE + 1 + LOCK
    assert (pot // 2 + 1, pot // 2) == (8_000_001, 8_000_000)
    assert tx.events == [
        pool.Penalized(dispute_id, other, LOCK),
        pool.Rewarded(dispute_id, first, pot // 2 + 1),
        pool.Rewarded(dispute_id, second, pot // 2),
        pool.Ruling(escrow, dispute_id, 1),
        escrow.Ruling(pool, dispute_id, 1),
        pool.RulingDelivered(dispute_id),
    ]
    assert pool.arbitratorOf(first) == (ARBITRATOR_STAKE, 0, 0, 0, pot // 2 + 1)
    assert pool.arbitratorOf(second) == (ARBITRATOR_STAKE, 0, 0, 0, pot // 2)
    assert pool.arbitratorOf(other) == (ARBITRATOR_STAKE - LOCK, 0, 0, 0, 0)
    assert pool.totalStake() == total - LOCK
    assert usdc.balanceOf(pool) == pool_owes(pool, [*arbitrators, deployer])

    before = usdc.balanceOf(first)
    withdrawal = pool.withdraw(sender=arbitrators[first])
    assert withdrawal.events == [
        pool.Withdrawn(first, pot // 2 + 1),
        usdc.Transfer(pool, first, pot // 2 + 1),
    ]
    assert usdc.balanceOf(first) == before + pot // 2 + 1
    assert pool.arbitratorOf(first).rewards == 0
    assert usdc.balanceOf(pool) == pool_owes(pool, [*arbitrators, deployer])


def test_execute_ruling_with_nobody_coherent_funds_the_reserve_not_governance(
    chain, usdc, deployer, escrow, pool, arbitrators, escrow_dispute
):
    dispute_id, _ = escrow_dispute

    result, tx = rule(pool, chain, dispute_id, arbitrators, seats(None, None, None))  # no votes rules 0

    pot = FIRST_FEE + 3 * LOCK
    assert tx.events == [
        *(pool.Penalized(dispute_id, a, LOCK) for a in result.panel),
        pool.RewardsFunded(pool, pot),
        pool.Ruling(escrow, dispute_id, 0),
        escrow.Ruling(pool, dispute_id, 0),
        pool.RulingDelivered(dispute_id),
    ]
    assert pool.rewardReserve() == pot
    assert pool.arbitratorOf(deployer).rewards == 0
    with reverts(pool.NothingToWithdraw, account=deployer, unlockAt=0):
        pool.withdraw(sender=deployer)
    assert usdc.balanceOf(pool) == pool_owes(pool, [*arbitrators, deployer])


def test_tie_rewards_everyone_who_revealed_and_penalizes_the_silent(
    chain, escrow, pool, arbitrators, escrow_dispute
):
    dispute_id, _ = escrow_dispute

    result, tx = rule(pool, chain, dispute_id, arbitrators, seats(1, 2, None))  # a tie rules 0

    silent = result.panel[2]
    pot = FIRST_FEE + LOCK
    share, dust = divmod(pot, 2)
    assert tx.events == [
        pool.Penalized(dispute_id, silent, LOCK),
        pool.Rewarded(dispute_id, result.panel[0], share + dust),
        pool.Rewarded(dispute_id, result.panel[1], share),
        pool.Ruling(escrow, dispute_id, 0),
        escrow.Ruling(pool, dispute_id, 0),
        pool.RulingDelivered(dispute_id),
    ]
    assert pool.currentRuling(dispute_id) == (0, True, False)


def test_execute_ruling_waits_for_the_end_of_the_appeal_window(chain, pool, arbitrators, escrow_dispute):
    dispute_id, _ = escrow_dispute
    vote_round(pool, chain, dispute_id, arbitrators, everyone(2))
    appeal_end = pool.roundOf(dispute_id, 0).appealEnd

    chain.pending_timestamp = appeal_end
    with reverts(pool.WrongPhase, disputeId=dispute_id, actual=Phase.APPEALABLE, expected=Phase.FINAL):
        pool.executeRuling(dispute_id, sender=next(iter(arbitrators.values())))
    chain.pending_timestamp = appeal_end + 1
    pool.executeRuling(dispute_id, sender=next(iter(arbitrators.values())))

    assert pool.phase(dispute_id) == Phase.FINAL


def test_execute_ruling_reverts_once_final(chain, pool, arbitrators, escrow_dispute):
    dispute_id, _ = escrow_dispute
    rule(pool, chain, dispute_id, arbitrators, everyone(2))

    with reverts(pool.WrongPhase, disputeId=dispute_id, actual=Phase.FINAL, expected=Phase.APPEALABLE):
        pool.executeRuling(dispute_id, sender=next(iter(arbitrators.values())))


def test_rewards_of_every_panel_seat_follow_the_spec(
    chain, usdc, deployer, pool, arbitrators, escrow_dispute
):
    dispute_id, _ = escrow_dispute

    result, tx = rule(pool, chain, dispute_id, arbitrators, seats(2, None, 2))

    rewards, penalized = payouts(result, FIRST_FEE, 2)
    assert [(e.arbitrator, e.reward) for e in tx.events.filter(pool.Rewarded)] == list(rewards.items())
    assert [e.arbitrator for e in tx.events.filter(pool.Penalized)] == penalized
    assert usdc.balanceOf(pool) == pool_owes(pool, [*arbitrators, deployer])


# Delivery


def test_execute_ruling_records_the_ruling_before_delivering_it(
    chain, escrow, pool, arbitrators, escrow_dispute
):
    dispute_id, terms = escrow_dispute
    vote_round(pool, chain, dispute_id, arbitrators, everyone(2))
    after_appeal_window(pool, chain, dispute_id)

    tx = pool.executeRuling(dispute_id, sender=next(iter(arbitrators.values())))

    tail = [e for e in tx.events if e.event_name in ("Ruling", "RulingDelivered")]
    assert tail == [
        pool.Ruling(escrow, dispute_id, 2),
        escrow.Ruling(pool, dispute_id, 2),
        pool.RulingDelivered(dispute_id),
    ]
    assert pool.phase(dispute_id) == Phase.FINAL
    assert escrow.disputeOf(terms.digest())[5:] == (True, 2)


def test_deliver_ruling_reverts_already_delivered(chain, pool, arbitrators, escrow_dispute, stranger):
    dispute_id, _ = escrow_dispute
    rule(pool, chain, dispute_id, arbitrators, everyone(1))

    with reverts(pool.AlreadyDelivered, disputeId=dispute_id):
        pool.deliverRuling(dispute_id, sender=stranger)


def test_deliver_ruling_reverts_before_the_ruling_is_final(
    chain, pool, arbitrators, escrow_dispute, stranger
):
    dispute_id, _ = escrow_dispute
    vote_round(pool, chain, dispute_id, arbitrators, everyone(1))

    with reverts(pool.WrongPhase, disputeId=dispute_id, actual=Phase.APPEALABLE, expected=Phase.FINAL):
        pool.deliverRuling(dispute_id, sender=stranger)


def test_reverting_arbitrable_cannot_block_execution_and_anyone_may_retry(
    chain, usdc, deployer, pool, arbitrators, reverting_arbitrable, stranger
):
    dispute_id, _ = open_dispute(pool, usdc, reverting_arbitrable)
    result, tx = rule(pool, chain, dispute_id, arbitrators, everyone(1))

    assert tx.events == [
        *(pool.Rewarded(dispute_id, a, FIRST_FEE // 3) for a in result.panel),
        pool.Ruling(reverting_arbitrable, dispute_id, 1),
        pool.RulingDeliveryFailed(dispute_id),
    ]
    assert pool.phase(dispute_id) == Phase.FINAL
    assert all(pool.arbitratorOf(a).locked == 0 for a in result.panel)
    retry = pool.deliverRuling(dispute_id, sender=stranger)
    assert retry.events == [pool.RulingDeliveryFailed(dispute_id)]
    assert usdc.balanceOf(pool) == pool_owes(pool, [*arbitrators, deployer])


def test_execute_ruling_completes_when_the_arbitrable_has_no_code(chain, pool, usdc, arbitrators, claimant):
    # Anyone may open a dispute from an account without code; its panel must still be released.
    dispute_id, _ = open_dispute(pool, usdc, claimant)
    result = vote_round(pool, chain, dispute_id, arbitrators, everyone(1))
    after_appeal_window(pool, chain, dispute_id)

    tx = pool.executeRuling(dispute_id, sender=claimant)

    # Nothing to call at an address without code: the Ruling event is the delivery.
    assert tx.events.filter(pool.RulingDelivered) == [pool.RulingDelivered(dispute_id)]
    drawn_one = arbitrators[result.panel[0]]
    pool.requestUnstake(LOCK, sender=drawn_one)
    assert pool.arbitratorOf(drawn_one).locked == 0


@pytest.fixture
def hostile_arbitrable(project, deployer, usdc):
    """A real arbitrable contract whose `rule` accepts, reverts or burns all its gas, as set."""
    hostile = deployer.deploy(project.TestHostileArbitrable)
    usdc.mint(hostile, 100 * FIRST_FEE, sender=deployer)
    return hostile


def test_gas_burning_arbitrable_cannot_block_execution_and_delivery_is_retried(
    chain, usdc, deployer, pool, arbitrators, hostile_arbitrable, stranger
):
    hostile_arbitrable.setMode(2, sender=deployer)  # burn all gas in `rule`
    tx = hostile_arbitrable.open(pool, usdc, FIRST_FEE, sender=deployer)
    dispute_id = tx.events.filter(pool.DisputeCreation)[0].disputeId
    vote_round(pool, chain, dispute_id, arbitrators, everyone(1))
    after_appeal_window(pool, chain, dispute_id)

    executed = pool.executeRuling(dispute_id, sender=stranger)

    # The callback ran out of its stipend; the ruling is final all the same and the panel is paid.
    assert executed.events.filter(pool.RulingDeliveryFailed) == [pool.RulingDeliveryFailed(dispute_id)]
    assert executed.events.filter(pool.Ruling) == [pool.Ruling(hostile_arbitrable, dispute_id, 1)]
    assert pool.phase(dispute_id) == Phase.FINAL
    assert executed.gas_used < pool.RULE_CALLBACK_GAS() + 500_000
    assert hostile_arbitrable.rulings() == 0

    hostile_arbitrable.setMode(0, sender=deployer)
    retried = pool.deliverRuling(dispute_id, sender=stranger)
    assert retried.events.filter(pool.RulingDelivered) == [pool.RulingDelivered(dispute_id)]
    assert hostile_arbitrable.rulings() == 1
    with reverts(pool.AlreadyDelivered, disputeId=dispute_id):
        pool.deliverRuling(dispute_id, sender=stranger)


def test_first_round_nobody_can_draw_lapses_to_ruling_zero_and_funds_the_reserve(
    chain, usdc, deployer, fresh_pool, claimant
):
    dispute_id, _ = open_dispute(fresh_pool, usdc, claimant)
    chain.mine(2)
    with reverts(fresh_pool.NotEnoughArbitrators, disputeId=dispute_id, drawn=0, needed=3):
        fresh_pool.draw(dispute_id, sender=claimant)

    draw_by = fresh_pool.roundOf(dispute_id, 0).drawBy
    chain.pending_timestamp = draw_by
    with reverts(
        fresh_pool.WrongPhase, disputeId=dispute_id, actual=Phase.DRAWING, expected=Phase.APPEALABLE
    ):
        fresh_pool.executeRuling(dispute_id, sender=claimant)
    chain.pending_timestamp = draw_by + 1
    tx = fresh_pool.executeRuling(dispute_id, sender=claimant)

    assert fresh_pool.currentRuling(dispute_id) == (0, True, False)
    assert tx.events.filter(fresh_pool.Rewarded) == []
    assert tx.events.filter(fresh_pool.RewardsFunded) == [fresh_pool.RewardsFunded(fresh_pool, FIRST_FEE)]
    assert fresh_pool.rewardReserve() == FIRST_FEE
    assert fresh_pool.phase(dispute_id) == Phase.FINAL


# Governance: phase lengths are bounded and a round keeps the ones it opened with


@pytest.mark.parametrize(
    "commit, reveal, appeal, bad", [(0, 0, 60, 0), (30, 0, 60, 0), (30, 30, 9, 9), (30, 2881, 60, 2881)]
)
def test_set_parameters_refuses_phases_nobody_could_vote_in(pool, deployer, commit, reveal, appeal, bad):
    assert (pool.MIN_PHASE_MINUTES(), pool.MAX_PHASE_MINUTES()) == (10, 2880)
    with reverts(pool.PhaseLengthOutOfBounds, minutes_=bad, min=10, max=2880):
        pool.setParameters((PARAMS.fee_per_arbitrator, commit, reveal, appeal), sender=deployer)


def test_a_round_keeps_the_phase_lengths_it_opened_with(chain, pool, deployer, arbitrators, escrow_dispute):
    dispute_id, _ = escrow_dispute
    pool.setParameters((PARAMS.fee_per_arbitrator, 10, 10, 10), sender=deployer)

    _, tx = draw(pool, chain, dispute_id, deployer)

    view = pool.roundOf(dispute_id, 0)
    drawn_at = chain.blocks[tx.block_number].timestamp
    assert view.commitEnd == drawn_at + PARAMS.commit_minutes * 60
    assert view.revealEnd == view.commitEnd + PARAMS.reveal_minutes * 60
    chain.mine(timestamp=view.revealEnd + 1)
    tallied = pool.tally(dispute_id, sender=deployer)
    tallied_at = chain.blocks[tallied.block_number].timestamp
    assert pool.roundOf(dispute_id, 0).appealEnd == tallied_at + PARAMS.appeal_minutes * 60


# The reward reserve belongs to the protocol's escrow


def test_a_dispute_opened_directly_on_the_pool_does_not_draw_on_the_reserve(
    usdc, pool, claimant, escrow, jobs, agent
):
    usdc.approve(pool, 5 * USDC, sender=claimant)
    pool.fundRewards(5 * USDC, sender=claimant)

    dispute_id, _ = open_dispute(pool, usdc, claimant)

    assert pool.roundOf(dispute_id, 0).fee == FIRST_FEE
    assert pool.rewardReserve() == 5 * USDC
    assert pool.reserveArbitrable() == escrow.address
    terms, _ = jobs.verdict(approve=True)
    escrow_dispute_id, _ = jobs.dispute(terms, agent)
    assert pool.roundOf(escrow_dispute_id, 0).fee == FIRST_FEE + 5 * USDC
    assert pool.rewardReserve() == 0
