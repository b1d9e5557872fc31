"""Errors of the arbitrator's client; each message is one line that says what was wrong and what to do.

Errors every daemon can meet (chain, keystore, settings, database) are in runtime.errors.
"""

from runtime.errors import DaemonError


class ArbitratorError(DaemonError):
    """Base class of the client's errors."""


class Refused(ArbitratorError):
    """The pool (or the client, before asking it) refuses the action; the message says why."""


class CaseFileError(ArbitratorError):
    """A case file cannot be found, fetched or opened."""
