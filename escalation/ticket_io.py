"""Reading tickets and resolutions from JSON lines with one-line errors, and writing JSON lines."""

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import TicketError
from .models import Decision, Ticket

_Model = TypeVar("_Model", bound=BaseModel)


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "object"
    shown = json.dumps(first.get("input"), ensure_ascii=False, default=str)
    got = f" (got {shown[:60]})" if first["type"] != "missing" else ""
    more = f"; {exc.error_count() - 1} more problem(s)" if exc.error_count() > 1 else ""
    return f"field {where}: {first['msg']}{got}{more}"


def parse_ticket(line: str, number: int) -> Ticket:
    """The ticket on input line `number`, or a TicketError saying which line, what is wrong and what to do."""
    return parse_line(line, number, Ticket, "ticket")


def parse_line(line: str, number: int, model: type[_Model], what: str) -> _Model:
    """The `what` object (a ticket, a resolution) on input line `number`, or a TicketError saying the fix."""
    if not line.strip():
        raise TicketError(f"line {number}: empty line; send one JSON {what} object per line")
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise TicketError(
            f"line {number}: not JSON ({exc.msg} at column {exc.colno}); send one JSON object per line"
        ) from None
    if not isinstance(data, dict):
        raise TicketError(
            f"line {number}: a JSON {type(data).__name__}, not an object; send one {what} object per line"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise TicketError(f"line {number}: {_describe(exc)}; fix it and send the line again") from None


def decision_record(decision: Decision) -> dict[str, Any]:
    """The decision as the CLI writes it (one JSON object per ticket)."""
    return decision.model_dump(mode="json")


def error_record(number: int, error: TicketError) -> dict[str, Any]:
    """What the CLI writes in place of a decision for a bad input line."""
    return {"line": number, "error": str(error)}


def dumps(record: dict[str, Any]) -> str:
    """One compact JSON line."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))
