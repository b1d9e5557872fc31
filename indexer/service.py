"""The indexer as a runtime daemon Service: the read API on a thread beside the cursor's passes."""

import logging
import threading

from runtime.asgi import ServerThread
from runtime.chain import Chain
from runtime.cursor import LogCursor
from runtime.daemon import Progress
from runtime.errors import ConfigError, WrongDeployment
from runtime.metrics import RuntimeMetrics

from .facts import Fact

log = logging.getLogger(__name__)
READ_ONLY = "0x" + "00" * 20  # the cursor's signer column: the indexer sends nothing


class Indexer:
    """Follows the protocol's four contracts into the read model, pass after pass."""

    def __init__(
        self, chain: Chain, cursor: LogCursor[Fact | None], metrics: RuntimeMetrics, api: ServerThread | None,
        contracts: dict[str, str],
    ) -> None:  # fmt: skip
        self.chain, self.cursor, self.metrics, self.api = chain, cursor, metrics, api
        self._contracts = contracts
        self._serving = False

    def start(self) -> None:
        """Checks that the contracts exist and that the database followed this chain, then serves the API."""
        for name, address in self._contracts.items():
            if address and self.chain.code_size(address) == 0:
                raise WrongDeployment(
                    f"no contract at the {name} address {address}: wrong RPC or deployments file?"
                )
        self.cursor.bind(self.chain.chain_id(), READ_ONLY)
        if self.api is not None and not self._serving:
            try:
                self.api.start()
            except RuntimeError as error:
                raise ConfigError(f"{error}: pass another --api-port (0 picks a free one)") from error
            self._serving = True
            log.info("indexer API listening", extra={"url": self.api.url})

    def run_once(self) -> Progress:
        """Reads up to the head; ready once within a few blocks of it."""
        head = self.chain.head()
        folded = self.cursor.poll(head)
        ready, detail = self.metrics.position(head, self.cursor.position())
        return Progress(busy=folded > 0 or not ready, ready=ready, detail=detail)

    def idle(self, stop: threading.Event, seconds: float) -> None:
        """Waits for the next pass (the API keeps answering meanwhile)."""
        stop.wait(seconds)

    def close(self) -> None:
        """Stops the API."""
        if self._serving and self.api is not None:
            self.api.stop()
            self._serving = False
