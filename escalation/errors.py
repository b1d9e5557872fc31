"""Errors of the escalation package; each message says what was wrong and what to do."""


class EscalationError(Exception):
    """Base class of the escalation package's errors."""


class TicketError(EscalationError):
    """A ticket (or a line of ticket input) is not valid; the message names the field and the fix."""


class ConfigError(EscalationError):
    """The engine's configuration file cannot be read or is not valid."""


class KnownIssuesError(EscalationError):
    """The known-issues file cannot be read or one of its lines has no `text`."""
