"""The worker app's errors: each message says what was wrong and what to do; nothing is lost."""


class WorkerError(Exception):
    """Base of the worker app's errors; `key` names the catalogue entry a page shows."""

    key = "error.generic"


class WalletMissing(WorkerError):
    """No wallet yet: create or import one first."""

    key = "error.no_wallet"


class WrongPassphrase(WorkerError):
    """The passphrase does not open the keystore."""

    key = "error.wrong_passphrase"


class Locked(WorkerError):
    """The wallet is locked: unlock it with the passphrase."""

    key = "error.locked"


class BadInput(WorkerError):
    """A form or an option was filled wrongly; the message says which and how."""

    key = "error.bad_input"


class DeskUnavailable(WorkerError):
    """The desk cannot be reached; nothing was signed away, try again."""

    key = "error.desk_down"


class ChainUnavailable(WorkerError):
    """The chain's RPC cannot be reached; nothing was sent, try again."""

    key = "error.chain_down"


class Refused(WorkerError):
    """The desk, an oracle node or the chain refused; the message carries their reason."""

    key = "error.refused"


class TamperedContext(WorkerError):
    """The sealed context does not open or does not match the job: it is not shown."""

    key = "error.tampered"
