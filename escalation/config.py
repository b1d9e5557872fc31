"""The engine's configuration: thresholds, amounts, keyword patterns and mappings, with shipped defaults."""

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError

_STRICT = ConfigDict(frozen=True, extra="forbid")


class ConfidenceConfig(BaseModel):
    """When the agent's own confidence is too low."""

    model_config = _STRICT
    threshold: float = Field(ge=0, le=1)
    offer_margin: float = Field(ge=0, le=1)


class FrustrationWeights(BaseModel):
    """How much each frustration signal adds to the score (capped at 1)."""

    model_config = _STRICT
    negative: float
    caps: float
    follow_ups: float
    threat: float
    ultimatum: float
    profanity: float
    charged: float
    accusation: float
    insult: float
    outrage: float
    exasperation: float
    exclamations: float
    sarcasm: float
    escalation_request: float
    disappointment: float
    consequence: float
    waiting: float


class FrustrationConfig(BaseModel):
    """Sentiment and frustration over the whole conversation."""

    model_config = _STRICT
    threshold: float
    offer_threshold: float
    vader_negative: float
    caps_min_words: int
    caps_min_ratio: float
    follow_up_min: int
    recency_weight: float
    negation_words: int = Field(ge=0)
    count_words: dict[str, int]  # number words of stated contacts ("five calls", "third time")
    weights: FrustrationWeights
    patterns: dict[str, list[str]]  # threat, profanity, the charged categories, calm, follow_up, ...


class ComplianceConfig(BaseModel):
    """Compliance and legal triggers."""

    model_config = _STRICT
    refund_threshold_usd: float
    patterns: dict[str, list[str]]  # data_request, discrimination, litigation
    ignore: list[str] = []  # benign senses blanked out before matching (a lawyer who is the customer)


class NoveltyWeights(BaseModel):
    """The logistic model's weights over the closest known issue's signals (fitted on the dev split)."""

    model_config = _STRICT
    bias: float
    similarity: float  # cosine similarity to the closest known issue
    unexplained_marker: float  # unexpected behaviour the closest issue does not explain
    unexplained_concepts: float  # per ticket topic the closest issue does not name


class NoveltyConfig(BaseModel):
    """Distance from every known issue, and how resolutions make a new problem known."""

    model_config = _STRICT
    threshold: float = Field(ge=0, le=1)  # novelty probability at which the detector fires
    offer_threshold: float = Field(ge=0, le=1)
    weights: NoveltyWeights
    max_unexplained_concepts: int = Field(ge=0)
    unknown_weight: float
    anomaly_factor: float = Field(gt=0, le=1)
    promote_after: int = Field(ge=1)
    cluster_similarity: float


class RequirementsConfig(BaseModel):
    """How reasons become the posted job's reward, deadline, certifications and expertise."""

    model_config = _STRICT
    base_reward_usdc: float
    resolve_within_s: int
    high_value_usd: float
    angry_high_value_multiplier: float
    angry_high_value_resolve_within_s: int
    reward_extra_usdc: dict[str, float]
    certification_bits: dict[str, int]
    expertise_bits: dict[str, int]
    reason_certifications: dict[str, list[str]]
    reason_expertise: dict[str, list[str]]


class EngineConfig(BaseModel):
    """Everything the engine can be told; `load_config` fills what a file leaves out."""

    model_config = _STRICT
    confidence: ConfidenceConfig
    frustration: FrustrationConfig
    compliance: ComplianceConfig
    novelty: NoveltyConfig
    requirements: RequirementsConfig


def default_config_data() -> dict[str, Any]:
    """The shipped defaults as plain data."""
    text = resources.files("escalation").joinpath("data/default_config.toml").read_text("utf-8")
    return tomllib.loads(text)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def build_config(override: dict[str, Any] | None = None) -> EngineConfig:
    """The defaults with `override` merged in (tables merge key by key; lists replace)."""
    try:
        return EngineConfig.model_validate(_merge(default_config_data(), override or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"config key {where}: {first['msg']}; fix it or drop it to keep the default"
        ) from None


def load_config(path: Path | None = None) -> EngineConfig:
    """The defaults, overridden by the TOML file at `path` when one is given."""
    if path is None:
        return build_config()
    try:
        override = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}; pass a readable TOML file") from None
    return build_config(override)
