"""The desk as a runtime daemon Service: its HTTP API on a thread beside the follow loop's passes."""

import logging
import threading

from runtime.daemon import Progress
from runtime.errors import ConfigError, WrongDeployment

from .serving import ServerThread
from .wiring import DeskService

log = logging.getLogger(__name__)


class DeskLoop:
    """Starts the API once the deployment checks out, then follows the desk's jobs pass after pass."""

    def __init__(self, service: DeskService, api: ServerThread) -> None:
        self.service, self.api = service, api
        self._serving = False

    def start(self) -> None:
        """Checks that the escrow is where the deployment says, then serves the API."""
        contracts = self.service.desk.contracts
        if contracts.chain.code_size(contracts.escrow.address) == 0:
            raise WrongDeployment(
                f"no contract at the escrow address {contracts.escrow.address}: "
                "wrong RPC or deployments file?"
            )
        if not self._serving:
            try:
                self.api.start()
            except RuntimeError as error:
                raise ConfigError(f"{error}: pass another --api-port (0 picks a free one)") from error
            self._serving = True
            log.info("desk API listening", extra={"url": self.api.url})

    def run_once(self) -> Progress:
        """One follow pass; ready once the cursor is within a few blocks of the head."""
        with self.service.lock:  # the API's commands use the same sender
            changed = self.service.follower.run_once()
        head = self.service.desk.contracts.chain.head()
        ready, detail = self.service.metrics.position(head, self.service.follower.cursor.position())
        return Progress(busy=changed > 0 or not ready, ready=ready, detail=detail)

    def idle(self, stop: threading.Event, seconds: float) -> None:
        """Waits for the next pass (the API keeps answering meanwhile)."""
        stop.wait(seconds)

    def close(self) -> None:
        """Stops the API."""
        if self._serving:
            self.api.stop()
            self._serving = False
