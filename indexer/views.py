"""What events do not carry, read from the contracts' views pinned to a block: operators' and
arbitrators' stakes, and the submission time behind a verification deadline."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from eth_abi import decode, encode

from protocol_core.abi import abi
from runtime.abi import function_selector
from runtime.chain import BlockRef, Chain
from runtime.errors import ChainUnavailable

from .facts import Fact, Kind
from .fold import SNAPSHOT

SNAPSHOT_POSITION = 1_000_000  # after every event of its block

# kind -> [(contract, view, output types, output names)]
VIEWS: dict[Kind, list[tuple[str, str, list[str], list[str]]]] = {
    Kind.OPERATOR: [("VerificationOracle", "operatorOf", ["uint96", "uint96", "uint40", "uint8", "bool"],
                     ["stake", "unstaking", "unstakeAt", "index", "active"])],
    Kind.ARBITRATOR: [
        ("ArbitrationPool", "arbitratorOf", ["uint256", "uint256", "uint256", "uint40", "uint256"],
         ["staked", "locked", "unstaking", "unlockAt", "rewards"]),
        ("ArbitrationPool", "queuedOf", ["uint256", "uint256"], ["stakeIn", "unstakeOut"]),
    ],
}  # fmt: skip


class Views:
    """Pinned view reads for the facts of one range, in batches."""

    def __init__(self, chain: Chain, addresses: dict[str, str], verification_window: int) -> None:
        self._chain, self._addresses, self._window = chain, addresses, verification_window

    def snapshots(self, facts: Iterable[Fact]) -> list[Fact]:
        """One Snapshot fact per operator and arbitrator in `facts`, read at the block of its last fact."""
        last: dict[tuple[Kind, str], Fact] = {}
        for fact in facts:
            if fact.kind in VIEWS and self._addresses.get(VIEWS[fact.kind][0][0]):
                last[(fact.kind, fact.key)] = fact
        by_block: dict[tuple[int, str], list[Fact]] = defaultdict(list)
        for fact in last.values():
            by_block[(fact.block, fact.block_hash)].append(fact)
        out: list[Fact] = []
        for (number, block_hash), group in sorted(by_block.items()):
            requests = [
                (
                    self._addresses[contract],
                    function_selector(abi(contract), view) + encode(["address"], [f.key]),
                )
                for f in group
                for contract, view, _, _ in VIEWS[f.kind]
            ]
            answers = iter(self._pinned(requests, BlockRef(number, block_hash)))
            for f in group:
                args: dict[str, Any] = {}
                for _, _, types, names in VIEWS[f.kind]:
                    values = decode(types, next(answers))
                    args |= {n: _json(v) for n, v in zip(names, values, strict=True)}
                out.append(Fact(f.kind, f.key, SNAPSHOT, args, number, block_hash))
        return out

    def with_deadlines(self, facts: list[Fact]) -> list[Fact]:
        """`facts` with each EvidenceSubmitted with verifyBy: its block's time + the window."""
        numbers = sorted({f.block for f in facts if f.name == "EvidenceSubmitted"})
        times = {}
        for number in numbers:
            block = self._chain.block(number)
            if block is None:
                raise ChainUnavailable(f"the RPC has no block {number} yet")
            times[number] = block.timestamp
        return [
            replace(f, args=f.args | {"verifyBy": times[f.block] + self._window})
            if f.name == "EvidenceSubmitted" else f
            for f in facts
        ]  # fmt: skip

    def _pinned(self, requests: list[tuple[str, bytes]], at: BlockRef) -> list[bytes]:
        answers = self._chain.calls_at(requests, at)
        if answers is None:
            # No state at that block: a pruned full node or an anvil loaded from a state file during a
            # catch-up, or a backend behind. The newest values stand in; they are ahead of the block
            # only until the entity's next event is read, and a reorg that orphans a later change of
            # them before that is the one case they are wrong (the next event refreshes them).
            answers = self._chain.calls(requests)
        return answers


def _json(value: Any) -> Any:
    """Integers beyond 2**53 as decimal text, as the facts keep them."""
    return str(value) if not isinstance(value, bool) and isinstance(value, int) and value >= 2**53 else value
