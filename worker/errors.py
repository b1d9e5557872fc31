"""The worker app's errors: each message says what was wrong and what to do; nothing is lost."""

from typing import Any

from .i18n import translate


class WorkerError(Exception):
    """Base of the worker app's errors; `key` names the catalogue entry of the headline a page shows,
    `detail` (when given) the entry of the message itself, filled with `values`."""

    key = "error.generic"

    def __init__(self, message: str = "", *, detail: str = "", **values: Any) -> None:
        super().__init__(message or translate("en", detail, **values))  # English: the CLI's and the logs'
        self.detail, self.values = detail, values

    def told(self, lang: str) -> str:
        """The message in `lang` (the English text when it has no catalogue entry)."""
        return translate(lang, self.detail, **self.values) if self.detail else str(self)


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
