"""Errors of the shared core; each message says what was wrong and what to do."""


class ProtocolError(Exception):
    """Base class of the core package's errors."""


class DeploymentError(ProtocolError):
    """A deployment cannot go on safely (wrong token, test contract on a live network...)."""


class UnknownLanguage(ProtocolError):
    """A language code is not in the protocol's language table."""
