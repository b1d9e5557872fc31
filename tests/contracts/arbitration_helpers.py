"""Fixtures and drivers shared by the arbitration tests: arbitrators, disputes, panels, and the money."""

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devtools.system import PARAMS, REWARD
from protocol_core.arbitration import commitment
from protocol_core.enums import RefundReason, RoundPhase, RulingOption

USDC = 10**6
ARBITRATOR_STAKE = 200 * USDC  # twenty seats' worth of locks
SESSION_ARBITRATORS = 20  # enough distinct arbitrators for a last panel of 15
CHALLENGE_WINDOW = 600
FIRST_FEE = 3 * PARAMS.fee_per_arbitrator
LOCK = PARAMS.lock_per_draw
REFUND_BY_RULING = RefundReason.RULING
Phase, Ruling = RoundPhase, RulingOption  # the names the arbitration tests use
ETH = 10**20

Choose = Callable[[int, str], int | None]


def new_accounts(accounts: Any, usdc: Any, n: int, amount: int = 0) -> list[Any]:
    """Fresh accounts with ETH for gas and `amount` of the test token each."""
    fresh = []
    for _ in range(n):
        account = accounts.generate_test_account()
        account.balance = ETH
        if amount:
            usdc.mint(account, amount, sender=account)
        fresh.append(account)
    return fresh


def fund(usdc: Any, account: Any, amount: int, spender: Any) -> None:
    """Mints `amount` to `account` and lets `spender` pull any amount."""
    usdc.mint(account, amount, sender=account)
    usdc.approve(spender, 2**256 - 1, sender=account)


def stake_new(accounts: Any, usdc: Any, pool: Any, stakes: Iterable[int]) -> dict[str, Any]:
    """One fresh arbitrator per stake, staked in `pool` in that order; by address."""
    staked = {}
    for amount in stakes:
        (arbitrator,) = new_accounts(accounts, usdc, 1)
        fund(usdc, arbitrator, amount, pool)
        pool.stake(amount, sender=arbitrator)
        staked[str(arbitrator.address)] = arbitrator
    return staked


def open_dispute(pool: Any, usdc: Any, arbitrable: Any) -> tuple[int, Any]:
    """`arbitrable` pays the fee and opens a two-choice dispute; returns (dispute id, transaction)."""
    usdc.approve(pool, 2**256 - 1, sender=arbitrable)
    tx = pool.createDispute(2, b"", usdc, FIRST_FEE, sender=arbitrable)
    return tx.events.filter(pool.DisputeCreation)[0].disputeId, tx


def current_round(pool: Any, dispute_id: int) -> int:
    """Index of the dispute's current round: the last one with a panel size."""
    index = 0
    while pool.roundOf(dispute_id, index + 1).panelSize != 0:
        index += 1
    return index


def panel_of(pool: Any, dispute_id: int, round_index: int | None = None) -> list[str]:
    """The drawn arbitrators of a round (the current one by default), in seat order."""
    index = current_round(pool, dispute_id) if round_index is None else round_index
    return [str(a) for a in pool.roundOf(dispute_id, index).panel]


def draw(pool: Any, chain: Any, dispute_id: int, sender: Any) -> tuple[list[str], Any]:
    """Lets the randomness arrive and draws; returns (panel, transaction)."""
    chain.mine(2)
    tx = pool.draw(dispute_id, sender=sender)
    return panel_of(pool, dispute_id), tx


@dataclass(frozen=True)
class Vote:
    """A drawn arbitrator's hidden vote."""

    choice: int
    salt: bytes


def commit_votes(pool: Any, dispute_id: int, signers: Mapping[str, Any], choices: Mapping[str, int]) -> dict:
    """Each arbitrator in `choices` commits its choice with a fresh salt; returns the votes."""
    index = current_round(pool, dispute_id)
    votes = {}
    for address, choice in choices.items():
        vote = Vote(choice, os.urandom(32))
        hidden = commitment(dispute_id, index, address, choice, vote.salt)
        pool.commit(dispute_id, hidden, sender=signers[address])
        votes[address] = vote
    return votes


def reveal_votes(pool: Any, dispute_id: int, signers: Mapping[str, Any], votes: Mapping[str, Vote]) -> None:
    """Each arbitrator in `votes` reveals its choice and salt."""
    for address, vote in votes.items():
        pool.reveal(dispute_id, vote.choice, vote.salt, sender=signers[address])


@dataclass
class RoundResult:
    """What one round's panel did."""

    panel: list[str]
    choices: dict[str, int | None]  # None: committed and never revealed
    tally: Any


def vote_round(
    pool: Any, chain: Any, dispute_id: int, signers: Mapping[str, Any], choose: Choose
) -> RoundResult:
    """Draws (unless drawn already), commits, reveals and tallies the current round.

    `choose(seat, address)` is the vote of the arbitrator drawn into that seat, or None for one who
    commits and never reveals.
    """
    anyone = next(iter(signers.values()))
    if pool.phase(dispute_id) == Phase.DRAWING:
        draw(pool, chain, dispute_id, anyone)
    panel = panel_of(pool, dispute_id)
    choices = {a: choose(seat, a) for seat, a in enumerate(panel)}
    votes = commit_votes(pool, dispute_id, signers, {a: c or 0 for a, c in choices.items()})
    view = pool.roundOf(dispute_id, current_round(pool, dispute_id))
    chain.mine(timestamp=view.commitEnd + 1)
    reveal_votes(pool, dispute_id, signers, {a: v for a, v in votes.items() if choices[a] is not None})
    chain.mine(timestamp=view.revealEnd + 1)
    return RoundResult(panel, choices, pool.tally(dispute_id, sender=anyone))


def seats(*choices: int | None) -> Choose:
    """Votes by seat: the first arbitrator drawn votes choices[0], and so on."""
    return lambda seat, _address: choices[seat]


def everyone(choice: int) -> Choose:
    """A unanimous panel."""
    return lambda _seat, _address: choice


def after_appeal_window(pool: Any, chain: Any, dispute_id: int) -> None:
    """Moves time one second past the current round's appeal window."""
    chain.mine(timestamp=pool.roundOf(dispute_id, current_round(pool, dispute_id)).appealEnd + 1)


def rule(pool: Any, chain: Any, dispute_id: int, signers: Mapping[str, Any], choose: Choose) -> tuple:
    """One unappealed round to a final ruling; returns (round result, executeRuling transaction)."""
    result = vote_round(pool, chain, dispute_id, signers, choose)
    after_appeal_window(pool, chain, dispute_id)
    return result, pool.executeRuling(dispute_id, sender=next(iter(signers.values())))


def payouts(
    result: RoundResult, fee: int, ruling: int, tied: bool = False
) -> tuple[dict[str, int], list[str]]:
    """The spec's payout of one round: (reward by coherent voter, penalized arbitrators).

    Those who revealed the final ruling (any revealed vote, when the final tally was a tie) share
    the fee and the others' locks; the first takes the dust. With nobody coherent the whole pot goes
    to governance (not listed here).
    """
    coherent = [
        a for a in result.panel if result.choices[a] == ruling or (tied and result.choices[a] is not None)
    ]
    penalized = [a for a in result.panel if a not in coherent]
    pot = fee + LOCK * len(penalized)
    if not coherent:
        return {}, penalized
    share, dust = divmod(pot, len(coherent))
    rewards = {a: share for a in coherent}
    rewards[coherent[0]] += dust
    return rewards, penalized


def pool_owes(pool: Any, holders: Iterable[Any]) -> int:
    """What the pool must hold: stakes, unstaking and rewards of `holders` (everyone who ever staked
    or earned there), fees of rounds not yet paid out, and the reward reserve."""
    owed = pool.rewardReserve()
    for holder in {str(getattr(h, "address", h)) for h in holders}:
        staked, _locked, unstaking, _unlock_at, rewards = pool.arbitratorOf(holder)
        owed += staked + unstaking + rewards
    dispute_id = 1
    while (phase := pool.phase(dispute_id)) != Phase.NONE:
        if phase != Phase.FINAL:
            owed += sum(pool.roundOf(dispute_id, r).fee for r in range(current_round(pool, dispute_id) + 1))
        dispute_id += 1
    return owed


def drain_escrow(escrow: Any, accounts: Sequence[Any]) -> None:
    """Collects protocol fees and withdraws every listed account's credit and operator fees."""
    if escrow.protocolFeesAccrued():
        escrow.collectProtocolFees(sender=accounts[0])
    for account in accounts:
        if escrow.creditOf(account):
            escrow.withdraw(account, sender=account)
        if escrow.operatorFeesOf(account):
            escrow.withdrawOperatorFees(account, sender=account)


class Jobs:
    """Brings jobs to a verdict with a challenge window, and disputes them."""

    def __init__(self, escrow: Any, flow: Any, make_terms: Any, worker: Any) -> None:
        self.escrow, self.flow, self.make_terms, self.worker = escrow, flow, make_terms, worker

    def submitted(self, reward: int = REWARD, window: int = CHALLENGE_WINDOW) -> tuple[Any, bytes]:
        """Posts, accepts and submits evidence; returns (terms, job id)."""
        terms = self.make_terms(reward=reward, challenge_window=window)
        job_id, _ = self.flow.submitted(terms, self.worker)
        return terms, job_id

    def verdict(
        self, approve: bool, reward: int = REWARD, window: int = CHALLENGE_WINDOW
    ) -> tuple[Any, bytes]:
        """A job the first two operators approved or rejected, in its challenge window; (terms, job id)."""
        terms = self.make_terms(reward=reward, challenge_window=window)
        job_id, evidence_hash = self.flow.submitted(terms, self.worker)
        self.flow.attest(job_id, evidence_hash, terms, approve=approve)
        return terms, job_id

    def dispute(self, terms: Any, disputer: Any, from_reward: bool = False) -> tuple[int, Any]:
        """`disputer` disputes the job; returns (dispute id, transaction)."""
        tx = self.escrow.dispute(terms.as_abi(), from_reward, sender=disputer)
        return tx.events.filter(self.escrow.JobDisputed)[0].disputeId, tx
