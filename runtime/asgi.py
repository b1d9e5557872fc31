"""An ASGI app served by uvicorn on a thread, startup and shutdown awaited (the desk and indexer APIs)."""

import threading
from typing import Any

import uvicorn

START_TIMEOUT = 10.0  # seconds the server may take to listen; a bound, not a wait


class ServerThread:
    """uvicorn's Server on a daemon thread: `start()` returns once it listens, `stop()` once it is down."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, name="http-api", daemon=True)
        self.host = host

    @property
    def port(self) -> int:
        """The port it listens on (the one the OS chose when 0 was asked)."""
        return int(self._server.servers[0].sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        """http://host:port"""
        return f"http://{self.host}:{self.port}"

    def start(self) -> "ServerThread":
        """Starts serving; raises if it has not started listening within START_TIMEOUT."""
        self._thread.start()
        started = threading.Event()

        def watch() -> None:
            while not self._server.started and self._thread.is_alive():
                started.wait(0.01)  # polling uvicorn's own flag; it offers no event
            started.set()

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        if not started.wait(START_TIMEOUT) or not self._server.started:
            raise RuntimeError(f"the HTTP server on {self.host} did not start (port in use?)")
        return self

    def stop(self) -> None:
        """Asks uvicorn to shut down gracefully and waits for it."""
        self._server.should_exit = True
        self._thread.join(timeout=START_TIMEOUT)
