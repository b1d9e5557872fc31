"""Fits the novelty detector's logistic weights on the corpus's dev split (never test) and prints them as
TOML for [novelty.weights], with leave-one-batch-out figures on dev as the check of generality, and the
fifth batch (dev, written after these weights and never fitted) scored as a fresh check.
"""

import sys
from pathlib import Path

import numpy as np

# this file's folder would shadow the `escalation` package it fits
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from escalation.config import build_config  # noqa: E402
from escalation.engine import EscalationEngine  # noqa: E402
from escalation.evaluate import load_corpus, load_known_issue_rows  # noqa: E402

BATCHES = {"m": "second", "t": "third", "f": "fourth", "v": "fifth"}
FITTED = ("first", "second", "third", "fourth")  # the fifth only checks: fitting it made dev decisions worse
L2 = 0.3  # ridge on standardised weights: three signals, ~230 distinct openings


def rows() -> list[tuple[str, list[float], bool]]:
    """(batch, features, novel) per distinct dev opening; compliance matters are never labelled novel."""
    config = build_config()
    engine = EscalationEngine(config, load_known_issue_rows())
    cap = config.novelty.max_unexplained_concepts
    seen: dict[str, tuple[str, list[float], bool]] = {}
    for row in load_corpus():
        if row.split != "dev" or row.labels["compliance_legal"]:
            continue
        opening = row.ticket.opening()
        neighbour = engine.known_issues.nearest(opening)
        if neighbour is None:
            continue
        tail = (row.ticket.id or "x-0").split("-", 1)[1]
        features = [
            neighbour.similarity,
            float(neighbour.unexplained_marker),
            float(min(neighbour.unexplained_concepts, cap)),
        ]
        seen[opening] = (BATCHES.get(tail[0], "first"), features, row.labels["novel"])
    return list(seen.values())


def fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ridge logistic regression by gradient descent; returns [bias, weights...] on the raw features."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = (x - mu) / sd
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(5000):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= 0.5 * (z.T @ (p - y) / len(y) + L2 * w / len(y))
        b -= 0.5 * float(np.mean(p - y))
    raw = w / sd
    return np.concatenate([[b - float(raw @ mu)], raw])


def predict(params: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(params[0] + x @ params[1:]))) >= 0.5


def main() -> None:
    data = rows()
    x = np.array([f for _, f, _ in data])
    y = np.array([n for _, _, n in data], dtype=float)
    batch = np.array([b for b, _, _ in data])
    fitted = np.isin(batch, FITTED)
    for held in (*FITTED, "fifth"):
        params = fit(x[fitted & (batch != held)], y[fitted & (batch != held)])
        guess, truth = predict(params, x[batch == held]), y[batch == held] > 0
        tp, fp, fn = (guess & truth).sum(), (guess & ~truth).sum(), (~guess & truth).sum()
        precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
        print(f"dev {held:6} held out: precision {precision:.2f} recall {recall:.2f}")
    bias, similarity, marker, concepts = (round(float(v), 3) for v in fit(x[fitted], y[fitted]))
    print("[novelty.weights]")
    print(f"bias = {bias}\nsimilarity = {similarity}\nunexplained_marker = {marker}")
    print(f"unexplained_concepts = {concepts}")


if __name__ == "__main__":
    main()
