"""Builds conversations.jsonl from the hand-written fragments (python -m escalation.corpus.generate)."""

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
LANGUAGES = ("en", "es", "de", "fr")
SPLITS = ("dev", "test")
_SECTION = re.compile(r"^\[(\w+)\]$")


@dataclass(frozen=True)
class Fragment:
    """One hand-written message, with the split it belongs to and extra labels it carries."""

    text: str
    split: str
    labels: frozenset[str]
    family: str = ""


def read_fragments(language: str, name: str = "", only: str = "") -> dict[str, list[Fragment]]:
    """Sections of `<language>.txt` (or `<name>.txt`); even lines of a section are dev, odd are test
    (every line is `only` when given: a batch written as training data alone)."""
    sections: dict[str, list[Fragment]] = {}
    current = ""
    for raw in (HERE / "fragments" / f"{name or language}.txt").read_text("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if header := _SECTION.match(line):
            current = header.group(1)
            sections[current] = []
            continue
        labels = frozenset({"frustration"}) if line.startswith("@frustration ") else frozenset()
        line = line.removeprefix("@frustration ")
        family = ""
        if " | " in line:
            family, line = line.split(" | ", 1)
        # novel families split by family number, so a test family is never seen in dev in any language
        index = int(family[2:]) - 1 if family else len(sections[current])
        sections[current].append(Fragment(line, only or SPLITS[index % 2], labels, family))
    return sections


class Builder:
    """Turns fragments into labelled tickets with realistic timing, confidence and amounts."""

    def __init__(
        self,
        language: str,
        sections: dict[str, list[Fragment]],
        rng: random.Random,
        openings: dict[str, list[Fragment]] | None = None,
        prefix: str = "",
    ) -> None:
        self.language = language
        self.sections = sections  # where replies, follow-ups and routine openings are picked from
        self.openings = sections if openings is None else openings  # what each conversation starts from
        self.prefix = prefix
        self.rng = rng
        self.rows: list[dict[str, Any]] = []

    def pick(self, section: str, split: str) -> Fragment:
        return self.rng.choice([f for f in self.sections[section] if f.split == split])

    def fill(self, text: str) -> tuple[str, float | None]:
        if "{small}" in text:
            amount = float(self.rng.randrange(15, 480))
            return text.replace("{small}", f"{amount:.0f}"), amount
        if "{large}" in text:
            amount = float(self.rng.randrange(600, 4000))
            return text.replace("{large}", f"{amount:.0f}"), amount
        return text, None

    def add(
        self, kind: str, split: str, turns: list[tuple[str, Fragment]], labels: set[str], low: bool
    ) -> None:
        ts = 1_767_225_600 + self.rng.randrange(0, 86400 * 60)
        messages, refund = [], None
        for role, fragment in turns:
            text, amount = self.fill(fragment.text)
            refund = amount if amount is not None else refund
            labels |= fragment.labels
            messages.append({"role": role, "text": text, "ts": ts})
            ts += self.rng.randrange(60, 86400)
        confidence = self.rng.uniform(0.30, 0.66) if low else self.rng.uniform(0.74, 0.98)
        if refund is not None and refund > 500:
            labels.add("compliance_legal")
        if low:
            labels.add("low_confidence")
        ticket = {
            "id": f"{self.language}-{self.prefix}{len(self.rows):04d}",
            "language": self.language,
            "messages": messages,
            "agent_confidence": round(confidence, 2),
            "proposed_reply": self.pick("agent", split).text,
            "refund_amount": refund,
        }
        if self.rng.random() < 0.3:
            ticket["customer_value_usd"] = float(self.rng.choice([120, 450, 1500, 5200]))
        truth = {t: t in labels for t in ("low_confidence", "frustration", "compliance_legal", "novel")}
        family = next((f.family for _, f in turns if f.family), "")
        self.rows.append({"split": split, "kind": kind, "family": family, "ticket": ticket, "labels": truth})

    def build(self) -> list[dict[str, Any]]:
        rng, agent = self.rng, "agent"
        for opening in self.openings.get("routine", []):
            s = opening.split
            self.add("routine", s, [("customer", opening)], set(), low=False)
            self.add(
                "routine",
                s,
                [("customer", opening), (agent, self.pick(agent, s)), ("customer", self.pick("polite", s))],
                set(),
                low=False,
            )
            if rng.random() < 0.5:
                turns = [
                    ("customer", opening),
                    (agent, self.pick(agent, s)),
                    ("customer", self.pick("angry", s)),
                ]
                self.add("angry", s, turns, {"frustration"}, low=False)
            if rng.random() < 0.35:
                self.add("low_confidence", s, [("customer", opening)], set(), low=True)
            if rng.random() < 0.25:
                turns = [
                    ("customer", opening),
                    (agent, self.pick(agent, s)),
                    ("customer", self.pick("followup", s)),
                ]
                turns += [(agent, self.pick(agent, s)), ("customer", self.pick("followup", s))]
                self.add("chased", s, turns, {"frustration"}, low=False)
        for opening in self.openings.get("routine_hard", []):
            s = opening.split
            self.add("hard_negative", s, [("customer", opening)], set(), low=False)
            self.add(
                "hard_negative",
                s,
                [("customer", opening), (agent, self.pick(agent, s)), ("customer", self.pick("polite", s))],
                set(),
                low=False,
            )
        for opening in self.openings.get("novel", []):
            s = opening.split
            self.add("novel", s, [("customer", opening)], {"novel"}, low=False)
            self.add(
                "novel",
                s,
                [("customer", opening), (agent, self.pick(agent, s)), ("customer", self.pick("polite", s))],
                {"novel"},
                low=rng.random() < 0.2,
            )
        for section in ("data_request", "litigation", "discrimination", "refund"):
            for line in self.openings.get(section, []):
                s = line.split
                self.add(section, s, [("customer", line)], {"compliance_legal"}, low=False)
                turns = [
                    ("customer", self.pick("routine", s)),
                    (agent, self.pick(agent, s)),
                    ("customer", line),
                ]
                self.add(section, s, turns, {"compliance_legal"}, low=False)
        for line in self.openings.get("frustrated", []):  # a charged reply after a routine opening
            s = line.split
            turns = [("customer", self.pick("routine", s)), (agent, self.pick(agent, s)), ("customer", line)]
            self.add("frustrated", s, turns, {"frustration"}, low=False)
        return self.rows


def main() -> None:
    """Writes conversations.jsonl next to this file (deterministic: fixed seeds)."""
    rows: list[dict[str, Any]] = []
    for number, language in enumerate(LANGUAGES):
        sections = read_fragments(language)
        rows += Builder(language, sections, random.Random(1500 + number)).build()
    for number, language in enumerate(LANGUAGES):  # the second batch, appended: earlier rows never change
        more = read_fragments(language, f"{language}.more")
        rng = random.Random(2500 + number)
        rows += Builder(language, read_fragments(language), rng, openings=more, prefix="m").build()
    # later batches, appended the same way (earlier rows never change): third, fourth
    for batch, prefix, seed in (("third", "t", 3500), ("fourth", "f", 4500)):
        for number, language in enumerate(LANGUAGES):
            openings = read_fragments(language, f"{language}.{batch}")
            rng = random.Random(seed + number)
            rows += Builder(language, read_fragments(language), rng, openings=openings, prefix=prefix).build()
    # the fifth batch is training data only (its README section): the test split stays as it was
    for number, language in enumerate(LANGUAGES):
        openings = read_fragments(language, f"{language}.fifth", only="dev")
        rng = random.Random(5500 + number)
        rows += Builder(language, read_fragments(language), rng, openings=openings, prefix="v").build()
    with (HERE / "conversations.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} conversations written")


if __name__ == "__main__":
    main()
