"""From an escalation request to the context bundle a worker reads: personal data redacted first."""

from escalation.redact import RedactionReport, redact
from protocol_core.context import ContextBundle, DocLink, Message, Redactions

from .requests import EscalationRequest


def build_context(
    request: EscalationRequest, kinds: tuple[str, ...]
) -> tuple[ContextBundle, RedactionReport]:
    """The redacted bundle and what was redacted (counts per kind over every text field)."""
    counts: dict[str, int] = {}

    def clean(text: str) -> str:
        redacted, report = redact(text, kinds=kinds)
        for kind, count in report.counts.items():
            counts[kind] = counts.get(kind, 0) + count
        return redacted

    bundle = ContextBundle(
        ticket_ref=request.ticket_ref,
        language=request.language,
        issue=clean(request.issue),
        conversation=tuple(Message(role=m.role, text=clean(m.text), ts=m.ts) for m in request.conversation),
        customer={key: clean(value) for key, value in request.customer.items()},
        docs=tuple(DocLink(title=d.title, url=d.url) for d in request.docs),
        acceptance_criteria=tuple(clean(item) for item in request.acceptance_criteria),
        redactions=Redactions(counts=dict(sorted(counts.items()))),
    )
    return bundle, RedactionReport(counts)
