"""The pool's reads and calldata the arbitrator needs, over the runtime's Chain (no keys)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from protocol_core.abi import abi
from protocol_core.enums import RoundPhase
from protocol_core.records import Round
from runtime.abi import error_names, function_selector
from runtime.chain import Chain

POOL = abi("ArbitrationPool")
ERRORS = error_names(POOL + abi("JobEscrow"))
RULE = function_signature_to_4byte_selector("rule(uint256,uint256)")  # IArbitrableV2's callback
RULE_GAS = 300_000  # IArbitrationPool.RULE_CALLBACK_GAS: the gas the pool gives the callback
ROUND = "(uint256,uint8,uint8[3],uint40,uint40,uint40,uint40,address[])"
_ARGS = {
    "stake": ["uint256"],
    "requestUnstake": ["uint256"],
    "withdraw": [],
    "commit": ["uint256", "bytes32"],
    "reveal": ["uint256", "uint256", "bytes32"],
    "draw": ["uint256"],
    "recordSeed": ["uint256"],
    "tally": ["uint256"],
    "executeRuling": ["uint256"],
    "payPanels": ["uint256"],
    "deliverRuling": ["uint256"],
    "applyQueuedStakes": ["address[]"],
}


def calldata(function: str, *args: Any) -> bytes:
    """Calldata of the pool's `function` (one of the calls an arbitrator or a keeper makes)."""
    return function_selector(POOL, function) + encode(_ARGS[function], list(args))


@dataclass(frozen=True)
class Standing:
    """The pool's record of one arbitrator, with the pool's bounds."""

    staked: int  # drawable stake
    locked: int  # part of it held by draws
    unstaking: int  # leaving, withdrawable at unlock_at
    unlock_at: int
    rewards: int  # credited, not withdrawn
    queued_in: int  # staked while draws were pending, not drawable yet
    queued_out: int  # unstake queued while draws were pending
    min_stake: int
    lock_per_draw: int
    pending_draws: int

    @property
    def free(self) -> int:
        """Stake that can still be drawn: a seat locks lock_per_draw of it."""
        return self.staked - self.locked

    def warnings(self) -> list[str]:
        """What keeps this arbitrator from being drawn, or an unstake from passing."""
        found = []
        if self.staked and self.free < self.lock_per_draw:
            found.append(
                f"free stake {self.free} is below lockPerDraw {self.lock_per_draw}: you cannot be drawn "
                "until a dispute releases your lock or you stake more"
            )
        if self.staked == 0 and self.queued_in == 0:
            found.append(f"nothing staked: stake at least {self.min_stake} to be drawn")
        if self.locked:
            found.append(f"{self.locked} locked by draws: an unstake is refused until those disputes end")
        return found


class PoolReader:
    """One pool, read through `chain`."""

    def __init__(self, chain: Chain, address: str) -> None:
        self.chain, self.address = chain, to_checksum_address(address)

    def _view(self, function: str, types: list[str], args: Sequence[Any] = (), out: str = "uint256") -> Any:
        data = function_selector(POOL, function) + encode(types, list(args))
        return decode([out], self.chain.call(self.address, data))[0]

    def phase(self, dispute_id: int) -> RoundPhase:
        """The phase of the dispute's current round."""
        return RoundPhase(self._view("phase", ["uint256"], [dispute_id], "uint8"))

    def phases(self, dispute_ids: Sequence[int]) -> list[RoundPhase]:
        """The phase of each dispute's current round, in one batch request."""
        selector = function_selector(POOL, "phase")
        answers = self.chain.calls([(self.address, selector + encode(["uint256"], [i])) for i in dispute_ids])
        return [RoundPhase(decode(["uint8"], answer)[0]) for answer in answers] if dispute_ids else []

    def accepts_ruling(self, arbitrable: str, dispute_id: int, ruling: int) -> bool:
        """Whether `arbitrable` would take the ruling now: its `rule` called as the pool calls it (from
        the pool, with the pool's gas stipend), without sending anything."""
        data = RULE + encode(["uint256", "uint256"], [dispute_id, ruling])
        tx = {"from": self.address, "to": arbitrable, "data": "0x" + data.hex(), "gas": hex(RULE_GAS)}
        (answer,) = self.chain.rpc.batch_raw([("eth_call", [tx, "latest"])])
        return "error" not in answer

    def round_of(self, dispute_id: int, index: int) -> Round:
        """Round `index` of the dispute."""
        fee, size, votes, draw_by, commit_end, reveal_end, appeal_end, panel = self._view(
            "roundOf", ["uint256", "uint256"], [dispute_id, index], ROUND
        )
        return Round(
            int(fee),
            int(size),
            tuple(int(v) for v in votes),  # type: ignore[arg-type]
            int(draw_by),
            int(commit_end),
            int(reveal_end),
            int(appeal_end),
            tuple(to_checksum_address(a) for a in panel),
        )

    def token(self) -> str:
        """The staking and fee token."""
        return to_checksum_address(self._view("token", [], out="address"))

    def standing(self, arbitrator: str) -> Standing:
        """The arbitrator's stake, locks, unstaking, rewards and queue, and the pool's bounds."""
        who = encode(["address"], [arbitrator])
        answers = self.chain.calls(
            [
                (self.address, function_selector(POOL, "arbitratorOf") + who),
                (self.address, function_selector(POOL, "queuedOf") + who),
                (self.address, function_selector(POOL, "minStake")),
                (self.address, function_selector(POOL, "lockPerDraw")),
                (self.address, function_selector(POOL, "pendingDraws")),
            ]
        )
        record = ["uint256", "uint256", "uint256", "uint40", "uint256"]
        staked, locked, unstaking, unlock_at, rewards = decode(record, answers[0])
        queued_in, queued_out = decode(["uint256", "uint256"], answers[1])
        (min_stake,), (lock,), (pending,) = (decode(["uint256"], a) for a in answers[2:])
        return Standing(
            staked, locked, unstaking, unlock_at, rewards, queued_in, queued_out, min_stake, lock, pending
        )

    def dry_run(self, sender: str, data: bytes) -> int | str:
        """Gas the call needs now, or the name of the custom error it would revert with."""
        return self.chain.dry_runs(sender, self.address, [data], ERRORS)[0]

    def dry_runs(self, sender: str, calls: Sequence[bytes]) -> list[int | str]:
        """Gas each call needs now, or the custom error's name; one batch request."""
        return self.chain.dry_runs(sender, self.address, calls, ERRORS) if calls else []
