"""Errors of the oracle node; each message says what was wrong and what to do."""


class NodeError(Exception):
    """Base class of the node's errors; messages say what was wrong and what to do about it."""


class EvidenceTooLarge(NodeError):
    """The evidence is larger than the node's `evidence_max_bytes`."""


class UnsupportedUri(NodeError):
    """The evidence URI has a scheme or form the node does not fetch."""


class EvidenceUnavailable(NodeError):
    """The evidence cannot be fetched and retrying will not help (404, 410, missing file, refused host)."""


class TransientFetchError(NodeError):
    """A fetch failed in a way that may pass (timeout, connection error, 5xx, 429); retry later."""


class TransientVerificationError(NodeError):
    """A verification could not finish for a reason on the node's side; retry the job later."""


class HelpdeskAuthError(NodeError):
    """The helpdesk refused the node's credentials: a configuration error, not the worker's fault."""


class ConfigError(NodeError):
    """The settings cannot work (unknown network, no RPC, no deployment, no contract at an address)."""


class KeystoreError(NodeError):
    """The signing key cannot be loaded (unknown alias, missing or wrong passphrase)."""


class ChainUnavailable(NodeError):
    """The RPC cannot be reached or answered with an error; the node waits and retries."""


class RpcError(ChainUnavailable):
    """The RPC answered a request with an error (a range too wide, a rate limit...)."""


class WrongDeployment(NodeError):
    """The database belongs to another chain or escrow."""


class HelpdeskConfigError(NodeError):
    """The helpdesk settings cannot work (a URL template without {ticket_ref}, say)."""
