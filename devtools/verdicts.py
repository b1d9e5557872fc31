"""Follows the oracle's Attested and VerdictReached logs until every awaited job has its verdict: one by
one attestations, or a quorum's signatures in one transaction (`submitAndAttest`, `attestWithSignatures`)."""

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ape import chain

from protocol_core.enums import Reason

from .daemons import DaemonFailure
from .oracle_nodes import OracleNodes

POLL = 0.2  # seconds between looks at the chain


@dataclass
class Verdict:
    """The oracle's final verdict on one job and the attestations that landed for it."""

    approved: bool
    reason: Reason
    attesters: list[str]  # addresses of the operators on the winning side (the verdict's mask), by index
    dissenters: list[str] = field(default_factory=list)  # addresses that attested the other way on chain
    gas: int = 0  # gas of every transaction that attested the job or carried its verdict
    transactions: int = 0  # how many such transactions


def await_verdicts(
    oracle: Any,
    nodes: OracleNodes,
    jobs: dict[bytes, str],
    from_block: int,
    deadline: float,
    progress: Callable[[str], None],
    on_verdict: Callable[[bytes, Verdict], None],
) -> dict[bytes, Verdict]:
    """Follows Attested and VerdictReached logs from `from_block` until every job in `jobs` has a verdict."""
    votes: dict[bytes, list[Any]] = {job: [] for job in jobs}
    verdicts: dict[bytes, Verdict] = {}
    by_index = {int(oracle.operatorOf(address).index): address for address in nodes.addresses}
    started, cursor = time.monotonic(), from_block
    while len(verdicts) < len(jobs):
        nodes.check()
        head = chain.blocks.height
        if head >= cursor:
            for log in oracle.Attested.range(cursor, head + 1):
                votes.setdefault(bytes(log.jobId), []).append(log)
            for log in oracle.VerdictReached.range(cursor, head + 1):
                job = bytes(log.jobId)
                if job in jobs and job not in verdicts:
                    verdicts[job] = _verdict(log, votes[job], by_index)
                    on_verdict(job, verdicts[job])
            cursor = head + 1
        elapsed = time.monotonic() - started
        if len(verdicts) < len(jobs) and elapsed > deadline:
            missing = ", ".join(label for job, label in jobs.items() if job not in verdicts)
            logs = "\n".join(f"  {n.alias}: {n.tail()}" for n in nodes.nodes)
            raise DaemonFailure(f"no verdict within {deadline:.0f}s for {missing}:\n{logs}")
        sent = Counter(nodes.name_of(log.operator) for logs in votes.values() for log in logs)
        progress(
            f"verdicts {len(verdicts)}/{len(jobs)} · attestations "
            + ", ".join(f"{node.alias} {sent[node.alias]}" for node in nodes.nodes)
            + f" · block {head} · {elapsed:.1f}s (deadline {deadline:.0f}s)"
        )
        if len(verdicts) < len(jobs):
            time.sleep(POLL)
    return verdicts


def _verdict(reached: Any, votes: list[Any], by_index: dict[int, str]) -> Verdict:
    approved, mask = bool(reached.approved), int(reached.attesters)
    carried = {str(log.transaction_hash) for log in [*votes, reached]}  # one tx may hold both logs
    return Verdict(
        approved=approved,
        reason=Reason(int(reached.reason)),
        attesters=[by_index.get(bit + 1, f"operator #{bit + 1}") for bit in range(128) if mask >> bit & 1],
        dissenters=[str(v.operator) for v in votes if bool(v.approve) != approved],
        gas=sum(chain.provider.get_receipt(tx).gas_used for tx in carried),
        transactions=len(carried),
    )
