"""Low confidence: the agent's own confidence in its proposed reply is under the threshold."""

from ..config import ConfidenceConfig
from ..models import DetectorResult, Reason, Ticket, Trigger


def detect_low_confidence(ticket: Ticket, config: ConfidenceConfig) -> DetectorResult:
    """Fires when `agent_confidence` is below the threshold; near within the offer margin above it."""
    confidence = ticket.agent_confidence
    fired = confidence < config.threshold
    near = not fired and confidence < config.threshold + config.offer_margin
    reasons: tuple[Reason, ...] = ()
    if fired or near:
        relation = "below" if fired else "just above"
        reasons = (
            Reason(
                code="low_confidence",
                trigger=Trigger.LOW_CONFIDENCE,
                text=f"agent confidence {confidence:.2f} is {relation} the threshold {config.threshold:.2f}",
                evidence=f"{confidence:.2f}",
            ),
        )
    return DetectorResult(
        trigger=Trigger.LOW_CONFIDENCE, score=1.0 - confidence, fired=fired, near=near, reasons=reasons
    )
