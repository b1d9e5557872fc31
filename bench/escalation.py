"""Escalation decision engine: precision/recall on the held-out corpus, escalation rate on a realistic mix,
decision time, and the autonomous-resolution rate over a replayed stream; writes bench/out/escalation.json.
"""

import json
import random
import statistics
import sys
import time
from pathlib import Path

# this file's folder would shadow the `escalation` package it measures
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from escalation.config import build_config  # noqa: E402
from escalation.engine import EscalationEngine  # noqa: E402
from escalation.evaluate import LabelledTicket, load_corpus, load_known_issue_rows, score  # noqa: E402
from escalation.learning import AutonomyTracker, Resolution  # noqa: E402
from escalation.models import Message, Ticket  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "escalation.json"
MIX_SIZE = 4000
MIX_ESCALATION_SHARE = 0.05  # the business case: about 5 % of tickets need a human
DAY = 86_400
START = 1_767_225_600  # 2026-01-01


def engine() -> EscalationEngine:
    return EscalationEngine(build_config(), load_known_issue_rows())


def realistic_mix(rows: list[LabelledTicket], rng: random.Random) -> list[LabelledTicket]:
    """Mostly routine tickets, about 5 % that should escalate, drawn from the held-out split."""
    routine = [r for r in rows if not r.should_escalate]
    hard = [r for r in rows if r.should_escalate]
    return [rng.choice(hard if rng.random() < MIX_ESCALATION_SHARE else routine) for _ in range(MIX_SIZE)]


def replay(rows: list[LabelledTicket], rng: random.Random) -> dict[str, object]:
    """28 days of 150 tickets, 30 % about new problems (one more every 3 days); escalations are learned."""
    eng, tracker = engine(), AutonomyTracker()
    routine = [r.ticket for r in rows if not r.should_escalate]
    by_family: dict[str, list[Ticket]] = {}
    for row in rows:  # one new problem, phrased in four languages
        if row.kind == "novel" and len(row.ticket.messages) == 1:
            by_family.setdefault(row.family, []).append(row.ticket)
    learned = []
    for day in range(28):
        active = [f for i, f in enumerate(sorted(by_family)) if day >= 3 * i]
        for n in range(150):
            ts = START + day * DAY + n * 500
            base = (
                rng.choice(by_family[rng.choice(active)])
                if active and rng.random() < 0.30
                else rng.choice(routine)
            )
            ticket = base.model_copy(
                update={"messages": tuple(Message(role=m.role, text=m.text, ts=ts) for m in base.messages)}
            )
            decision = eng.decide(ticket)
            tracker.record(ts, decision.should_escalate)
            if decision.should_escalate:
                resolution = Resolution(
                    ticket=ticket,
                    triggers=decision.triggers,
                    summary="Resolved by a specialist.",
                    verdict="approved",
                    resolved_at=ts + 3600,
                )
                if eng.learn(resolution):
                    learned.append(day)
    return {"per_day": tracker.per_day(), "per_week": tracker.per_week(), "problems_learned_on_day": learned}


def main() -> None:
    corpus = load_corpus()
    rng = random.Random(15)
    eng = engine()
    report: dict[str, object] = {}
    for split in ("dev", "test"):
        rows = [r for r in corpus if r.split == split]
        report[split] = score(rows, [eng.decide(r.ticket) for r in rows])
    test = report["test"]
    assert isinstance(test, dict)
    mix = realistic_mix([r for r in corpus if r.split == "test"], rng)
    timings, escalated = [], 0
    for row in mix:
        started = time.perf_counter()
        decision = eng.decide(row.ticket)
        timings.append((time.perf_counter() - started) * 1000)
        escalated += decision.should_escalate
    timings.sort()
    figures = {
        "split_reported": "test",
        "per_trigger": {
            k: {"precision": v["precision"], "recall": v["recall"]} for k, v in test["per_trigger"].items()
        },
        "overall": {"precision": test["overall"]["precision"], "recall": test["overall"]["recall"]},
        "escalation_rate": round(escalated / len(mix), 4),
        "escalation_rate_labelled": round(sum(r.should_escalate for r in mix) / len(mix), 4),
        "decision_ms_p50": round(statistics.median(timings), 3),
        "decision_ms_p99": round(timings[int(len(timings) * 0.99)], 3),
        "autonomous_rate": replay(corpus, random.Random(16)),
        "detail": report,
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=2) + "\n")
    overall = test["overall"]
    for name, pr in figures["per_trigger"].items():  # type: ignore[union-attr]
        print(f"{name:18} precision {pr['precision']:.3f}  recall {pr['recall']:.3f}")
    print(f"{'overall':18} precision {overall['precision']:.3f}  recall {overall['recall']:.3f}")
    print(
        f"escalation rate on a {len(mix)}-ticket mix: {figures['escalation_rate']}"
        f" (labelled {figures['escalation_rate_labelled']})"
    )
    print(f"decision time p50 {figures['decision_ms_p50']} ms, p99 {figures['decision_ms_p99']} ms")
    days = figures["autonomous_rate"]["per_day"]  # type: ignore[index]
    print("autonomous rate per day:", " ".join(f"{d['autonomous_rate']:.2f}" for d in days))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
