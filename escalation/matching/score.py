"""The soft score: configurable weights over expertise, reputation, load, response speed and time zone.

Every part is a goodness in [0, 1] times a non-negative weight, plus `eligible` for being a match at
all, so a score is never negative: an assignment that matches more jobs never loses to one that
matches fewer by the same workers' scores (what makes the batch never worse than greedy).
"""

import math

from pydantic import BaseModel, ConfigDict, Field

EXPERIENCE_FULL = 100  # completed jobs at which experience counts fully (log scale below)


class ScoreWeights(BaseModel):
    """How much each part of the soft score counts; all weights are points, 0 switches a part off."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    eligible: float = Field(default=1.0, ge=0)  # any worker who may accept
    extra_expertise: float = Field(default=0.5, ge=0)  # expertise bits beyond the job's, up to extra_cap
    extra_cap: int = Field(default=4, ge=1)
    experience: float = Field(default=1.0, ge=0)  # completed jobs, log scale up to EXPERIENCE_FULL
    punctuality: float = Field(default=2.0, ge=0)  # 1 - missed deadlines / jobs taken
    disputes: float = Field(default=2.0, ge=0)  # 1 - disputes lost / jobs completed
    load: float = Field(default=1.0, ge=0)  # 1 - active jobs / capacity
    response: float = Field(default=1.0, ge=0)  # 1 - median answer time / response_cap_s
    response_cap_s: float = Field(default=120.0, gt=0)
    response_unknown: float = Field(default=0.5, ge=0, le=1)  # goodness of a worker never offered
    timezone: float = Field(default=0.5, ge=0)  # 1 - hours apart / 12, where both are known
    min_score: float = Field(default=0.0, ge=0)  # offers go first to workers at or above this


def parts(weights: ScoreWeights, extra_bits: int, completed: int, missed: int, lost: int, active: int,
          capacity: int, response_s: float | None,
          hours_apart: float | None) -> dict[str, float]:  # fmt: skip
    """Each part's points for one worker (the vectorised pool computes the same numbers)."""
    response = (
        weights.response_unknown if response_s is None else 1 - min(response_s / weights.response_cap_s, 1)
    )
    return {
        "eligible": weights.eligible,
        "extra_expertise": weights.extra_expertise * min(extra_bits, weights.extra_cap) / weights.extra_cap,
        "experience": weights.experience * min(math.log1p(completed) / math.log1p(EXPERIENCE_FULL), 1.0),
        "punctuality": weights.punctuality * (1 - missed / (completed + missed + 1)),
        "disputes": weights.disputes * (1 - lost / (completed + lost + 1)),
        "load": weights.load * (1 - active / capacity),
        "response": weights.response * response,
        "timezone": 0.0 if hours_apart is None else weights.timezone * (1 - min(hours_apart, 12) / 12),
    }


def reasons(weights: ScoreWeights, points: dict[str, float], facts: dict[str, str]) -> tuple[str, ...]:
    """One line per part: what the worker has and the points it earned, best first."""
    ordered = sorted(points.items(), key=lambda kv: -kv[1])
    return tuple(f"{name} {value:+.2f}: {facts.get(name, '')}".rstrip(": ") for name, value in ordered)


def hours_apart(a: float | None, b: float | None) -> float | None:
    """Hours between two UTC offsets around the clock (0..12); None when either is unknown."""
    if a is None or b is None:
        return None
    gap = abs(a - b) % 24
    return min(gap, 24 - gap)
