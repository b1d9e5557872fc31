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
from escalation.text import fold, shipped_lexicon  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "escalation.json"
MIX_SIZE = 4000
MIX_ESCALATION_SHARE = 0.05  # the business case: about 5 % of tickets need a human
DAY = 86_400
# the day each new problem first shows up: 18 of the corpus's 26 `nv` families, the first 18 of a
# seeded shuffle, so the stream's load stays what it was when the corpus had 18
FOUND_ON = (0,) * 10 + (1, 2, 4, 6, 9, 12, 16, 21)
START = 1_767_571_200  # Monday 2026-01-05: four whole ISO weeks


def engine() -> EscalationEngine:
    return EscalationEngine(build_config(), load_known_issue_rows())


def realistic_mix(rows: list[LabelledTicket], rng: random.Random) -> list[LabelledTicket]:
    """Mostly routine tickets, about 5 % that should escalate, drawn from the held-out split."""
    routine = [r for r in rows if not r.should_escalate]
    hard = [r for r in rows if r.should_escalate]
    return [rng.choice(hard if rng.random() < MIX_ESCALATION_SHARE else routine) for _ in range(MIX_SIZE)]


def _at(ticket: Ticket, ts: int) -> Ticket:
    messages = tuple(Message(role=m.role, text=m.text, ts=ts + 60 * i) for i, m in enumerate(ticket.messages))
    return ticket.model_copy(update={"messages": messages})


def replay(rows: list[LabelledTicket], rng: random.Random, learn: bool = True) -> dict[str, object]:
    """28 days of 150 tickets. A release brings 10 new problems on day 0, the rest are found later and
    later (`FOUND_ON`),
    each sending about 3 tickets a day in any of four languages; the rest is ordinary traffic, about
    5 % of it needing a human for other reasons. Escalations are resolved by humans 2-8 hours later,
    90 % approved; only approved resolutions reach the engine, and only once they have happened.
    """
    eng, tracker = engine(), AutonomyTracker()
    ordinary = [r for r in rows if r.kind != "novel"]
    routine = [r.ticket for r in ordinary if not r.should_escalate]
    needs_human = [r.ticket for r in ordinary if r.should_escalate]
    by_family: dict[str, list[Ticket]] = {}
    for row in rows:
        if row.kind == "novel" and not row.labels["compliance_legal"]:
            by_family.setdefault(row.family, []).append(row.ticket)
    families = sorted(by_family)
    rng.shuffle(families)
    pending: list[tuple[int, Resolution]] = []  # (resolved_at, resolution) not yet handed back
    learned: list[int] = []
    problem_tickets: dict[int, list[int]] = {}  # day -> [new-problem tickets, of them escalated]
    for day in range(28):
        live = [f for f, found in zip(families, FOUND_ON, strict=False) if found <= day]  # 18 of 26
        for n in range(150):
            ts = START + day * DAY + n * (DAY // 150)
            while pending and pending[0][0] <= ts:
                if learn and eng.learn(pending.pop(0)[1]):
                    learned.append(day)
                elif not learn:
                    pending.pop(0)
            draw = rng.random()
            if draw < 3 * len(live) / 150:
                base = rng.choice(by_family[rng.choice(live)])
            else:
                base = rng.choice(needs_human if rng.random() < 0.05 else routine)
            ticket = _at(base, ts)
            decision = eng.decide(ticket)
            tracker.record(ts, decision.should_escalate)
            if draw < 3 * len(live) / 150:
                counts = problem_tickets.setdefault(day // 7, [0, 0])
                counts[0] += 1
                counts[1] += decision.should_escalate
            if decision.should_escalate:
                done = ts + rng.randrange(2, 9) * 3600
                verdict = "approved" if rng.random() < 0.9 else "rejected"
                summary = "A specialist reproduced the problem and applied the documented fix."
                resolution = Resolution(
                    ticket=ticket,
                    triggers=decision.triggers,
                    summary=summary,
                    verdict=verdict,
                    resolved_at=done,
                )
                pending.append((done, resolution))
                pending.sort(key=lambda item: item[0])
    return {
        "per_day": tracker.per_day(),
        "per_week": tracker.per_week(),
        "problems_learned_on_day": learned,
        "new_problem_tickets_escalated_per_week": [
            {"week": w + 1, "tickets": n, "escalated": e} for w, (n, e) in sorted(problem_tickets.items())
        ],
    }


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
    timings, cpu, escalated = [], [], 0
    lexicon = shipped_lexicon()
    for row in mix:
        # cold: the mix repeats tickets, and a repeated text would be served from the per-message caches
        fold.cache_clear()
        lexicon.tokens.cache_clear()
        started, started_cpu = time.perf_counter(), time.thread_time()
        decision = eng.decide(row.ticket)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        escalated += decision.should_escalate
    timings.sort()
    cpu.sort()
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
        "decision_cpu_ms_p99": round(cpu[int(len(cpu) * 0.99)], 3),  # the engine's own work, without waits
        "autonomous_rate": replay(corpus, random.Random(16)),
        "autonomous_rate_without_learning": replay(corpus, random.Random(16), learn=False)["per_week"],
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
    print(
        f"decision time p50 {figures['decision_ms_p50']} ms, p99 {figures['decision_ms_p99']} ms"
        f" (CPU p99 {figures['decision_cpu_ms_p99']} ms; cold caches)"
    )
    days = figures["autonomous_rate"]["per_day"]  # type: ignore[index]
    print("autonomous rate per day:", " ".join(f"{d['autonomous_rate']:.2f}" for d in days))
    for key in ("autonomous_rate", "autonomous_rate_without_learning"):
        weeks = figures[key] if key.endswith("learning") else figures[key]["per_week"]  # type: ignore[index]
        print(f"{key} per week:", " ".join(f"{w['period']} {w['autonomous_rate']:.3f}" for w in weeks))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
