"""JSON-lines logging for daemons, with secrets redacted from every record's extra fields."""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

SECRET_KEYS = ("passphrase", "token", "private_key", "password")  # also as suffixes: helpdesk_token
REDACTED = "[redacted]"
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def is_secret(key: str) -> bool:
    """Whether a field named `key` holds a secret."""
    name = key.lower()
    return any(name == secret or name.endswith("_" + secret) for secret in SECRET_KEYS)


def redact(value: Any) -> Any:
    """`value` with the values of secret keys replaced, in nested dicts, lists and tuples too."""
    if isinstance(value, dict):
        return {k: REDACTED if is_secret(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


class RedactSecrets(logging.Filter):
    """Replaces the values of secret-named extra fields before any handler formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in extra_fields(record):
            setattr(record, key, REDACTED if is_secret(key) else redact(getattr(record, key)))
        return True


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: ts (ISO-8601 UTC), level, logger, msg, then the extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in extra_fields(record):
            line.setdefault(key, getattr(record, key))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=_plain, ensure_ascii=False)


def extra_fields(record: logging.LogRecord) -> list[str]:
    """Names of the fields passed to the log call with `extra=`."""
    return [key for key in vars(record) if key not in _STANDARD]


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):  # hashes, addresses, job ids: hex as on chain
        return "0x" + bytes(value).hex()
    return str(value)


class _DaemonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler configure_logging installs, so that calling it again replaces rather than adds."""


def configure_logging(level: str, stream: TextIO = sys.stderr) -> None:
    """Logs JSON lines at `level` and above to `stream` from the root logger."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}: use DEBUG, INFO, WARNING, ERROR or CRITICAL")
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _DaemonHandler)]:
        root.removeHandler(old)
        old.close()
    handler = _DaemonHandler(stream)
    handler.setFormatter(JsonLinesFormatter())
    handler.addFilter(RedactSecrets())  # on the handler: logger filters skip records from child loggers
    root.addHandler(handler)
    root.setLevel(numeric)
