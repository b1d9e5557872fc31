"""Errors of the oracle node; each message says what was wrong and what to do.

Errors every daemon can meet (the chain, the keystore, the settings, the database) are in
runtime.errors; NodeError is one of the runtime's DaemonErrors.
"""

from runtime.errors import DaemonError


class NodeError(DaemonError):
    """Base class of the node's errors; messages say what was wrong and what to do about it."""


class EvidenceTooLarge(NodeError):
    """The evidence is larger than the node's `evidence_max_bytes`."""


class UnsupportedUri(NodeError):
    """The evidence URI has a scheme or form the node does not fetch."""


class EvidenceUnavailable(NodeError):
    """The evidence cannot be fetched and retrying will not help (404, 410, missing file, refused host)."""


class TransientFetchError(NodeError):
    """A fetch failed in a way that may pass (timeout, connection error, 5xx, 429); retry later."""


class HostBusy(NodeError):
    """The evidence's host already has `fetch_per_host` fetches in flight; the job is retried later."""


class TransientVerificationError(NodeError):
    """A verification could not finish for a reason on the node's side; retry the job later."""


class HelpdeskAuthError(NodeError):
    """The helpdesk refused the node's credentials: a configuration error, not the worker's fault."""


class HelpdeskConfigError(NodeError):
    """The helpdesk settings cannot work (a URL template without {ticket_ref}, say)."""
