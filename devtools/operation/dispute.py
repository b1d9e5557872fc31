"""The operation's dispute: the customer of an approved ticket says it was never resolved; the desk
disputes on their word; the arbitrators' daemons are drawn, each drawn arbitrator opens the case file
the desk sealed to it and gives its vote, and the daemons commit, reveal, tally and execute. The
chain's clock is moved past each phase (the skipped time is counted)."""

import json
import time
from collections.abc import Callable
from typing import Any

from eth_account import Account
from web3 import Web3

from protocol_core.abi import abi
from protocol_core.case_index import case_files_in
from protocol_core.deployment import load_deployments
from protocol_core.enums import RulingOption

from .run import FINAL, ChainClock, Operation
from .world import World

REASON = "The customer reports the problem came back the next day and was never resolved."
TIMEOUT = 90.0


def rule_dispute(world: World, op: Operation, chain: ChainClock) -> None:
    """Disputes the operation's chosen job and carries the dispute to its ruling; notes it in the record."""
    job = next(
        (e for e in op.record.escalated if e.windowed and op.hub.latest(e.desk_id) == "approved"), None
    )
    note = op.record.dispute
    if job is None:
        note["skipped"] = "no dispute: no job posted with a challenge window was approved"
        op.say(f"[yellow]{note['skipped']}")
        return
    op.say(f"the customer of {job.item.ticket.id} complains: the desk disputes the approval")
    op.client.dispute(job.desk_id, REASON)
    _until(lambda: op.hub.latest(job.desk_id) == "disputed", "the dispute on chain")
    dispute_id = op.client.status(job.desk_id).dispute_id
    assert dispute_id is not None
    arbitrators = world.arbitrators_ready()
    w3 = chain.w3
    addresses = load_deployments(op.stage.deployments)["polygon:local"]
    pool = w3.eth.contract(address=Web3.to_checksum_address(addresses.arbitrator), abi=abi("ArbitrationPool"))  # type: ignore[attr-defined]
    escrow = w3.eth.contract(address=Web3.to_checksum_address(addresses.escrow), abi=abi("JobEscrow"))  # type: ignore[attr-defined]
    chain.jump_to(0)
    chain.jump_to(0)  # the draw's randomness is a later block's hash: the keeper draws after it
    seated = "SELECT commit_end, reveal_end FROM arb_seats WHERE dispute_id = ?"
    address = {
        alias: Account.from_key(key).address.lower() for alias, (key, _) in op.stage.arbitrator_keys.items()
    }
    panel = lambda: {str(a).lower() for a in pool.functions.roundOf(dispute_id, 0).call()[7]}  # noqa: E731
    _until(lambda: panel(), "the keeper's draw")
    drawn = {alias: a for alias, a in arbitrators.items() if address[alias] in panel()}
    _until(lambda: all(a.query(seated, dispute_id) for a in drawn.values()), "the drawn daemons' seats")

    def named() -> set[str]:
        found: dict[str, str] = {}
        for log in escrow.events.Evidence.get_logs(from_block=op.record.first_block):
            found.update(case_files_in(log["args"]["evidence"]))
        return set(found)

    _until(lambda: len(named()) >= len(drawn), "the case files sealed to the drawn arbitrators")
    opened = {}
    for alias, process in [(alias, a.spawn("open", str(dispute_id))) for alias, a in drawn.items()]:
        out, _ = process.communicate(timeout=120)
        opened[alias] = process.returncode == 0 and str(job.item.ticket.id) in out
    votes = {alias: RulingOption.REFUND_AGENT for alias in drawn}
    if len(drawn) >= 3:
        votes[sorted(drawn)[-1]] = RulingOption.PAY_WORKER  # one arbitrator reads it the other way
    for alias, choice in votes.items():
        path = op.stage.workdir / "arbitrators" / f"{alias}-votes.jsonl"
        path.write_text(json.dumps({"dispute_id": dispute_id, "choice": int(choice)}) + "\n")
    commit_end, reveal_end = next(iter(drawn.values())).query(seated, dispute_id)[0]
    events = lambda name: getattr(pool.events, name).get_logs(  # noqa: E731
        from_block=op.record.first_block, argument_filters={"disputeId": dispute_id}
    )
    _until(lambda: len(events("VoteCommitted")) >= len(drawn), "every drawn arbitrator's commit")
    op.record.skipped_s += chain.jump_to(commit_end + 1)
    _until(lambda: len(events("VoteRevealed")) >= len(drawn), "every reveal")
    op.record.skipped_s += chain.jump_to(reveal_end + 1)
    _until(lambda: events("Tallied"), "the keeper's tally")
    tally = events("Tallied")[-1]["args"]
    op.record.skipped_s += chain.jump_to(tally["appealEnd"] + 1)
    _until(lambda: op.hub.latest(job.desk_id) in FINAL, "the ruling carried out")
    note.update(
        dispute_id=dispute_id, ticket=job.item.ticket.id, panel=sorted(drawn), opened=opened,
        votes={a: RulingOption(v).name.lower() for a, v in votes.items()},
        ruling=RulingOption(tally["ruling"]).name.lower(), outcome=op.hub.latest(job.desk_id),
    )  # fmt: skip
    op.say(
        f"dispute #{dispute_id}: {len(drawn)} arbitrators drawn, {sum(opened.values())} opened their case "
        f"file; ruling {note['ruling']}; the job was {note['outcome']}"
    )


def _until(condition: Callable[[], Any], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the dispute stalled waiting for {what} ({TIMEOUT:.0f}s)")
        time.sleep(0.05)
