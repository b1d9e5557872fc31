"""Errors of the daemon runtime; each message says what was wrong and what to do."""


class DaemonError(Exception):
    """Base class of the runtime's errors and of each daemon's own; messages say what to do."""


class ConfigError(DaemonError):
    """The settings cannot work (unknown network, no RPC, no deployment, no contract at an address)."""


class KeystoreError(DaemonError):
    """The signing key cannot be loaded (unknown alias, missing or wrong passphrase)."""


class ChainUnavailable(DaemonError):
    """The RPC cannot be reached or answered with an error; the daemon waits and retries."""


class RpcError(ChainUnavailable):
    """The RPC answered a request with an error (a range too wide, a rate limit...)."""


class WrongDeployment(DaemonError):
    """The database belongs to another chain, other contracts or another key."""
