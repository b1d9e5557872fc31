"""The operation day by day: every ticket of the stream goes through the escalation engine; the
escalated ones go to the desk, which posts, matches and offers them; the crew works them; the oracle
nodes pay or refund; verified resolutions teach the engine before the next day. The escalations of one
day are posted with a challenge window: at the end the first of them that was approved is disputed on
the customer's word and ruled by the arbitrators' daemons, and the chain's clock is moved past every
deadline, so the others are paid after their window and what nobody finished is refunded."""

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devtools.desk import API_KEY
from escalation.config import build_config
from escalation.desk.requests import DeskStatus, EscalationRequest
from escalation.desk.sdk import DeskClient
from escalation.engine import EscalationEngine
from escalation.evaluate import load_known_issue_rows
from escalation.learning import AutonomyTracker, Resolution
from escalation.models import Decision
from protocol_core.context import DocLink, Message

from .crew import Crew, Hub, post_helpdesk
from .stream import StreamTicket, ticket_stream
from .world import Stage, World, running

LEARNING_LOG = "learning.jsonl"  # the desk's learning log, in the work folder (its `learning_log`)
RESTING = {"paid", "refunded", "approved", "failed", "disputed"}  # nothing more happens this day
FINAL = {"paid", "refunded", "failed"}
DOCS = (DocLink(title="Knowledge base", url="https://support.example.com/kb"),)
CRITERIA = ("The customer confirms that the problem is resolved",)


@dataclass(frozen=True)
class Options:
    """The simulation's knobs; every one has a default (`make demo` passes none)."""

    tickets: int = 3_000
    days: int = 21
    seed: int = 7
    speed: float = 7_200.0  # simulated seconds of a specialist's work per real second
    day_timeout_s: float = 30.0  # most real seconds a day waits for its jobs (the rest carry over)
    window_day: int = 2  # this day's escalations (or the next day's with any) get a challenge window
    challenge_window_s: int = 3_600  # in which the customer may complain: the first approved is disputed


@dataclass
class Escalated:
    """One ticket the engine escalated, and what became of it."""

    item: StreamTicket
    decision: Decision
    desk_id: str
    escalated_at: float  # monotonic seconds
    windowed: bool = False  # posted with a challenge window: paid after it, or disputed within it


@dataclass
class Record:
    """Everything the run measured, for the report."""

    options: Options
    tickets: int = 0
    escalated: list[Escalated] = field(default_factory=list)
    triggers: Counter[str] = field(default_factory=Counter)
    tracker: AutonomyTracker = field(default_factory=AutonomyTracker)
    learned: int = 0  # resolutions handed to the engine
    skipped_s: int = 0  # chain time moved forward (deadlines, the challenge window, arbitration)
    first_block: int = 0
    dispute: dict[str, Any] = field(default_factory=dict)  # what rule_dispute noted
    wall_s: float = 0.0


class Operation:
    """One run of the simulated operation against a deployed chain."""

    def __init__(self, stage: Stage, options: Options, crew: Crew, progress: Callable[[str], None]) -> None:
        self.stage, self.options, self.crew, self.say = stage, options, crew, progress
        self.record = Record(options)
        self._learning_offset = 0  # bytes of the desk's learning log already learned
        self.days: list[list[Escalated]] = []  # the escalations of each day so far
        self.engine = EscalationEngine(build_config(), load_known_issue_rows())

    def run(self, chain: "ChainClock", on_dispute: Callable[[World, "Operation"], None]) -> Record:
        """Runs every simulated day, then the dispute and the refunds; stops every process."""
        started = time.monotonic()
        self.clock = chain
        stream = ticket_stream(self.options.tickets, self.options.days, self.options.seed)
        hub = Hub(self.stage.callback_secret, self.crew.offered).start()
        self.hub = hub
        try:
            with running(self.stage, self.crew.hooks(hub.url)) as world:
                self.world = world
                ready = time.monotonic() - started
                self.say(
                    f"desk, indexer, content store, oracle nodes and arbitrators started in {ready:.1f}s"
                )
                self.record.first_block = chain.height()
                helpdesk = post_helpdesk(world.desk.url, self.stage.helpdesk_secret)
                self.crew.connect(world.desk.url, chain.chain_id, chain.escrow, helpdesk,
                                  [n.intake_url for n in world.nodes.nodes])  # fmt: skip
                self.client = DeskClient(world.desk.url, API_KEY)
                for day, tickets in enumerate(stream):
                    self._day(day, tickets)
                for jobs in self.days[-2:]:
                    self._rest(jobs, self.options.day_timeout_s)
                self._learn()
                on_dispute(world, self)
                self._expire(chain)
        finally:
            self.crew.close()
            hub.stop()
        self.record.wall_s = time.monotonic() - started
        return self.record

    def _day(self, day: int, tickets: list[StreamTicket]) -> None:
        today: list[Escalated] = []
        for item in tickets:
            decision = self.engine.decide(item.ticket)
            self.record.tickets += 1
            self.record.tracker.record(item.ticket.messages[0].ts, decision.should_escalate)
            if decision.should_escalate:
                self.record.triggers.update(t.value for t in decision.triggers)
                windowed = day >= min(self.options.window_day, self.options.days - 1) and not any(
                    e.windowed for e in self.record.escalated
                )
                today.append(self._escalate(item, decision, windowed))
        self.record.escalated.extend(today)
        # Two days of slack (resolutions take hours): the jobs of the day before yesterday come to rest
        # while the later ones are worked; what they taught the desk is learned before the next day.
        self.days.append(today)
        self._rest(self.days[-3] if len(self.days) >= 3 else [], self.options.day_timeout_s)
        learned = self._learn()
        paid = sum(self.hub.latest(e.desk_id) in {"paid", "approved"} for e in self.record.escalated)
        self.say(
            f"day {day + 1:>2}/{self.options.days}: {len(tickets)} tickets, {len(today)} escalated; "
            f"{paid} of {len(self.record.escalated)} escalations resolved so far, {learned} learned today"
        )

    def _rest(self, jobs: list[Escalated], timeout: float) -> None:
        """Waits (polling the desk's callbacks) until every job in `jobs` is at rest, or `timeout`."""
        deadline = time.monotonic() + timeout
        while any(self.hub.latest(e.desk_id) not in RESTING for e in jobs) and time.monotonic() < deadline:
            time.sleep(0.05)

    def _escalate(self, item: StreamTicket, decision: Decision, windowed: bool) -> Escalated:
        ticket, needs = item.ticket, decision.requirements
        assert needs is not None
        request = EscalationRequest(
            ticket_ref=str(ticket.id), language=needs.language, issue=ticket.opening(),
            conversation=tuple(Message(role=m.role, text=m.text, ts=m.ts) for m in ticket.messages),
            customer={"yearly_value_usd": f"{ticket.customer_value_usd or 0:.0f}"}, docs=DOCS,
            acceptance_criteria=CRITERIA, reward=needs.reward, expertise=needs.expertise,
            certifications=needs.certifications, resolve_within_s=needs.resolve_within_s,
            challenge_window_s=self.options.challenge_window_s if windowed else 0,
            callback_url=f"{self.hub.url}/callbacks", triggers=decision.triggers,
            agent_confidence=ticket.agent_confidence,
        )  # fmt: skip
        view = self.client.escalate(request)
        return Escalated(item, decision, view.desk_id, time.monotonic(), windowed)

    def _learn(self) -> int:
        """Hands the resolutions the desk verified since the last day back to the engine: the desk
        appends one line per finished job to its learning log (docs/escalation.md, Learning loop)."""
        path = self.stage.workdir / LEARNING_LOG
        if not path.exists():
            return 0
        with path.open("rb") as log:
            log.seek(self._learning_offset)
            lines = log.read().splitlines(keepends=True)
        learned = 0
        for line in lines:
            if not line.endswith(b"\n"):
                break  # the desk is writing it: read next time
            self._learning_offset += len(line)
            resolution = Resolution.model_validate_json(line)
            self.engine.learn(resolution)
            learned += 1
        self.record.learned += learned
        return learned

    def _expire(self, chain: "ChainClock") -> None:
        """Moves the chain past every deadline still running; the desk settles (refunds) them."""
        waiting = [e for e in self.record.escalated if self.hub.latest(e.desk_id) not in FINAL]
        if not waiting:
            return
        deadlines = [self.client.status(e.desk_id).deadline or 0 for e in waiting]
        self.record.skipped_s += chain.jump_to(max(deadlines) + 1)
        self.say(f"{len(waiting)} job(s) never finished: chain time moved past their deadlines")
        limit = time.monotonic() + 60
        while any(self.hub.latest(e.desk_id) not in FINAL for e in waiting) and time.monotonic() < limit:
            time.sleep(0.05)  # the desk settles what time decided


class ChainClock:
    """The local chain's head and clock (anvil's evm_ methods)."""

    def __init__(self, w3: object, chain_id: int, escrow: str) -> None:
        self.w3, self.chain_id, self.escrow = w3, chain_id, escrow
        self.jumps: list[tuple[float, int]] = []  # (monotonic seconds when, chain seconds skipped)

    def height(self) -> int:
        return int(self.w3.eth.block_number)  # type: ignore[attr-defined]

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])  # type: ignore[attr-defined]

    def jump_to(self, timestamp: int) -> int:
        """Mines a block at `timestamp` (when it is ahead); returns the seconds skipped."""
        skipped = max(timestamp - self.now(), 0)
        if skipped:
            self.w3.provider.make_request("evm_setNextBlockTimestamp", [hex(timestamp)])  # type: ignore[attr-defined]
            self.jumps.append((time.monotonic(), skipped))
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[attr-defined]
        return skipped


def work_time(speed: float) -> Callable[[random.Random], float]:
    """A specialist's real seconds on a ticket: 10-40 simulated minutes at `speed`."""
    return lambda rng: rng.uniform(600, 2_400) / speed


STATUSES = tuple(s.value for s in DeskStatus)
