"""Escalation decision engine: precision/recall on the held-out corpus, escalation rate on a realistic mix,
decision time, and the autonomous-resolution rate over a replayed stream; writes bench/out/escalation.json.
"""

import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# this file's folder would shadow the `escalation` package it measures
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from escalation.config import build_config  # noqa: E402
from escalation.engine import EscalationEngine  # noqa: E402
from escalation.evaluate import (  # noqa: E402
    LabelledTicket,
    load_corpus,
    load_known_issue_rows,
    score,
    score_judged,
)
from escalation.learning import AutonomyTracker, Resolution  # noqa: E402
from escalation.models import Decision, Message, Ticket  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "escalation.json"
# conversations written by writers who never saw the engine (issue 15, sixth round; docs/escalation.md)
INDEPENDENT = Path(__file__).resolve().parents[1] / "tests" / "escalation" / "data" / "independent_sets.jsonl"
MIX_SIZE = 4000
MIX_ESCALATION_SHARE = 0.05  # the business case: about 5 % of tickets need a human
# of the tickets that need no human, the share that only look like they do (polite long tickets,
# capitals in a product name, a small refund): the corpus holds as many of those as plain routine
# ones, real traffic far fewer
MIX_HARD_SHARE = 0.15
PACE_S = 0.002  # paced timing: one decision per request, the process idle in between (as behind the doors)
LANGUAGES = ("en", "es", "de", "fr")
# id prefix after the language -> corpus batch; the fifth is training data only (dev)
BATCHES = {"m": "second", "t": "third", "f": "fourth", "v": "fifth"}
DAY = 86_400
# the day each new problem first shows up: 18 of the corpus's 34 `nv` families, the first 18 of a
# seeded shuffle, so the stream's load stays what it was when the corpus had 18
FOUND_ON = (0,) * 10 + (1, 2, 4, 6, 9, 12, 16, 21)
START = 1_767_571_200  # Monday 2026-01-05: four whole ISO weeks


def engine() -> EscalationEngine:
    return EscalationEngine(build_config(), load_known_issue_rows())


def realistic_mix(
    rows: list[LabelledTicket], rng: random.Random, hard_share: float = MIX_HARD_SHARE
) -> list[LabelledTicket]:
    """From the held-out split: 5 % that should escalate; of the rest, `hard_share` hard non-escalations."""
    routine = [r for r in rows if not r.should_escalate and r.kind != "hard_negative"]
    lookalike = [r for r in rows if not r.should_escalate and r.kind == "hard_negative"]
    escalate = [r for r in rows if r.should_escalate]
    mix = []
    for _ in range(MIX_SIZE):
        if rng.random() < MIX_ESCALATION_SHARE:
            mix.append(rng.choice(escalate))
        else:
            mix.append(rng.choice(lookalike if rng.random() < hard_share else routine))
    return mix


def batch(row: LabelledTicket) -> str:
    """The corpus batch a row was written in (escalation/corpus/README.md)."""
    tail = (row.ticket.id or "x-0").split("-", 1)[1]
    return BATCHES.get(tail[0], "first")


def timed(
    eng: EscalationEngine, mix: list[LabelledTicket], pace: float
) -> tuple[list[float], list[float], int]:
    """Wall and thread-CPU milliseconds per decision, per-message caches cleared; and how many escalated."""
    timings, cpu, escalated = [], [], 0
    for row in mix:
        # cold: the mix repeats tickets, and a repeated text would be served from the per-message caches
        eng.forget_messages()
        if pace:
            time.sleep(pace)
        started, started_cpu = time.perf_counter(), time.thread_time()
        decision = eng.decide(row.ticket)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        escalated += decision.should_escalate
    return sorted(timings), sorted(cpu), escalated


def _parts(
    rows: list[LabelledTicket],
    decisions: list[Decision],
    key: Callable[[LabelledTicket], str],
    names: tuple[str, ...],
) -> dict[str, object]:
    pairs = list(zip(rows, decisions, strict=True))
    return {
        n: score([r for r, _ in pairs if key(r) == n], [d for r, d in pairs if key(r) == n]) for n in names
    }


def _p99(values: list[float]) -> float:
    return round(values[int(len(values) * 0.99)], 3)


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
        live = [f for f, found in zip(families, FOUND_ON, strict=False) if found <= day]  # 18 of 34
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


def independent_sets(eng: EscalationEngine) -> dict[str, object]:
    """Per trigger over the independently written sets, each judging the triggers it was written for.
    Each set was scored once before the fixes it led to (those blind figures are in the docs); these
    are the figures after them, a floor for later changes rather than a fresh measure."""
    rows = [json.loads(line) for line in INDEPENDENT.read_text("utf-8").splitlines() if line.strip()]
    decisions = [eng.decide(Ticket.model_validate(r["ticket"])) for r in rows]
    judged = [(frozenset(r["judged"]), frozenset(r["expected"])) for r in rows]
    figures = score_judged(judged, decisions)
    return {
        "conversations": len(rows),
        "per_trigger": {k: {"precision": v["precision"], "recall": v["recall"]} for k, v in figures.items()},
    }


def main() -> None:
    corpus = load_corpus()
    rng = random.Random(15)
    eng = engine()
    report: dict[str, object] = {}
    for split in ("dev", "test"):
        rows = [r for r in corpus if r.split == split]
        decisions = [eng.decide(r.ticket) for r in rows]
        report[split] = score(rows, decisions)
        # generality: each batch was written after the previous one's figures; each language on its own
        batches = ("first", "second", "third", "fourth", "fifth")[: 5 if split == "dev" else 4]
        report[f"{split}_by_batch"] = _parts(rows, decisions, batch, batches)
        report[f"{split}_by_language"] = _parts(rows, decisions, lambda r: r.ticket.language, LANGUAGES)
    test = report["test"]
    assert isinstance(test, dict)
    held_out = [r for r in corpus if r.split == "test"]
    mix = realistic_mix(held_out, rng)
    timings, cpu, escalated = timed(eng, mix, pace=0.0)
    paced, paced_cpu, _ = timed(eng, mix[:1000], pace=PACE_S)
    lookalike_mix = realistic_mix(held_out, random.Random(15), hard_share=0.5)
    # the replayed stream draws from the first four batches, so its figures stay comparable with earlier runs
    stream = [r for r in corpus if batch(r) != "fifth"]
    lookalike_rate = sum(eng.decide(r.ticket).should_escalate for r in lookalike_mix) / len(lookalike_mix)
    figures = {
        "split_reported": "test",
        "per_trigger": {
            k: {"precision": v["precision"], "recall": v["recall"]} for k, v in test["per_trigger"].items()
        },
        "overall": {"precision": test["overall"]["precision"], "recall": test["overall"]["recall"]},
        "escalation_rate": round(escalated / len(mix), 4),
        "escalation_rate_labelled": round(sum(r.should_escalate for r in mix) / len(mix), 4),
        "escalation_rate_half_lookalikes": round(lookalike_rate, 4),  # half of the no-human tickets hard ones
        "decision_ms_p50": round(statistics.median(timings), 3),
        "decision_ms_p99": _p99(timings),  # back to back: on a loaded machine, waits for a core count too
        "decision_cpu_ms_p99": _p99(cpu),  # the engine's own work, without waits
        "decision_ms_p99_paced": _p99(paced),  # 1,000 decisions, each after PACE_S idle, as requests come
        "decision_cpu_ms_p99_paced": _p99(paced_cpu),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "autonomous_rate": replay(stream, random.Random(16)),
        "autonomous_rate_without_learning": replay(stream, random.Random(16), learn=False)["per_week"],
        "independent_sets": independent_sets(eng),
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
        f" (CPU p99 {figures['decision_cpu_ms_p99']} ms; cold caches); paced p99"
        f" {figures['decision_ms_p99_paced']} ms (CPU {figures['decision_cpu_ms_p99_paced']} ms);"
        f" load average {figures['load_average_1m']}"
    )
    for name in ("test_by_batch", "test_by_language"):
        for key, part in report[name].items():  # type: ignore[union-attr]
            t = part["per_trigger"]
            shown = " ".join(f"{k[:5]} {t[k]['precision']:.2f}/{t[k]['recall']:.2f}" for k in t)
            print(
                f"test {key:7} {shown}"
                f"  overall {part['overall']['precision']:.3f}/{part['overall']['recall']:.3f}"
            )
    independent = figures["independent_sets"]["per_trigger"]  # type: ignore[index]
    shown = " ".join(f"{k[:5]} {v['precision']:.2f}/{v['recall']:.2f}" for k, v in independent.items())
    print(f"independent sets (seen): {shown}")
    days = figures["autonomous_rate"]["per_day"]  # type: ignore[index]
    print("autonomous rate per day:", " ".join(f"{d['autonomous_rate']:.2f}" for d in days))
    for key in ("autonomous_rate", "autonomous_rate_without_learning"):
        weeks = figures[key] if key.endswith("learning") else figures[key]["per_week"]  # type: ignore[index]
        print(f"{key} per week:", " ".join(f"{w['period']} {w['autonomous_rate']:.3f}" for w in weeks))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
