"""The runtime's lifecycle: a Daemon runs a service's passes, reports readiness over real HTTP, waits out an
RPC that is down, redoes failed passes, stops on a fatal error or a signal; and imports no daemon."""

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import httpx
import pytest

from devtools.chain import wait_for
from runtime.daemon import Daemon, Progress
from runtime.errors import ChainUnavailable, WrongDeployment
from runtime.health import HealthServer
from runtime.metrics import RuntimeMetrics

POLL = 0.01


class Service:
    """A service whose passes play a script: a Progress to return, or an exception to raise."""

    def __init__(self, *script: Progress | Exception, start_failures: list[Exception] | None = None) -> None:
        self.script, self.start_failures = list(script), list(start_failures or [])
        self.starts = self.passes = 0
        self.closed = False

    def start(self) -> None:
        self.starts += 1
        if self.start_failures:
            raise self.start_failures.pop(0)

    def run_once(self) -> Progress:
        self.passes += 1
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        return step

    def idle(self, stop: threading.Event, seconds: float) -> None:
        stop.wait(seconds)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def health() -> Iterator[HealthServer]:
    server = HealthServer("127.0.0.1", 0, RuntimeMetrics("test"))
    server.start()
    yield server
    server.stop()


def readyz(health: HealthServer) -> tuple[int, str]:
    response = httpx.get(f"http://127.0.0.1:{health.port}/readyz", timeout=5.0)
    return response.status_code, response.text


@pytest.fixture
def running(health):
    """Starts a Daemon over a service in a thread; stops it and returns what the thread raised."""
    threads: list[tuple[threading.Thread, threading.Event]] = []
    raised: list[BaseException] = []

    def start(service: Service) -> Daemon:
        daemon, stop = Daemon(service, health, poll_interval=POLL), threading.Event()

        def loop() -> None:
            try:
                daemon.run(stop)
            except BaseException as error:
                raised.append(error)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        threads.append((thread, stop))
        return daemon

    yield start, raised
    for thread, stop in threads:
        stop.set()
        thread.join(timeout=10)


def test_passes_report_readiness_and_the_service_is_closed_on_stop(health, running):
    start, _ = running
    service = Service(
        Progress(busy=False, ready=False, detail="9 blocks behind the head"), Progress(False, True, "")
    )
    start(service)
    wait_for(lambda: readyz(health) == (200, "ready\n"), timeout=10, what="ready")
    assert service.starts == 1 and service.passes >= 2
    assert httpx.get(f"http://127.0.0.1:{health.port}/healthz", timeout=5.0).status_code == 200


def test_an_unreachable_rpc_is_reported_and_waited_out(health, running):
    start, raised = running
    down = ChainUnavailable("RPC unreachable (ConnectionError): check that the node is up")
    service = Service(down, down, Progress(False, True, ""), start_failures=[down])
    start(service)
    wait_for(lambda: service.passes >= 3, timeout=10, what="passes after the failures")
    wait_for(lambda: readyz(health)[0] == 200, timeout=10, what="ready again")
    assert service.starts == 2 and not raised  # start() is tried again until it succeeds


def test_an_unreachable_rpc_shows_in_readyz(health, running):
    start, _ = running
    start(Service(ChainUnavailable("RPC unreachable (Timeout): check that the node is up")))
    wait_for(lambda: readyz(health)[1].startswith("RPC unreachable (Timeout)"), timeout=10, what="the reason")


def test_a_failed_pass_is_redone(health, running, caplog):
    start, raised = running
    service = Service(ValueError("a surprise from the RPC"), Progress(False, True, ""))
    start(service)
    wait_for(lambda: readyz(health)[0] == 200, timeout=10, what="the pass after the failure")
    assert "pass failed, retrying" in caplog.text and not raised


def test_a_fatal_error_ends_the_loop(health, running):
    start, raised = running
    service = Service(Progress(False, True, ""), start_failures=[WrongDeployment("another chain")])
    start(service)
    wait_for(lambda: raised, timeout=10, what="the loop to end")
    assert isinstance(raised[0], WrongDeployment) and service.passes == 0


def test_serve_runs_until_sigterm_then_stops_serving():
    health = HealthServer("127.0.0.1", 0)
    service = Service(Progress(False, True, ""))
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}

    def terminate_when_ready() -> None:
        wait_for(lambda: service.passes, timeout=10, what="a pass")
        os.kill(os.getpid(), signal.SIGTERM)

    killer = threading.Thread(target=terminate_when_ready, daemon=True)
    killer.start()
    try:
        Daemon(service, health, poll_interval=POLL).serve()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    killer.join(timeout=10)
    assert service.closed
    with pytest.raises(RuntimeError, match="once start"):
        health.port  # noqa: B018 - the socket is closed


def test_position_sets_the_gauges_and_says_whether_it_is_caught_up():
    metrics = RuntimeMetrics("test")
    assert metrics.position(120, 117) == (True, "3 blocks behind the head")
    assert metrics.position(120, 116) == (False, "4 blocks behind the head")
    assert b"test_lag_blocks 4.0" in metrics.render() and b"test_head_block 120.0" in metrics.render()


def test_the_runtime_imports_no_daemon_and_no_protocol_code():
    modules = (
        "abi chain cursor daemon db errors health keystore logs metrics network rpc sender settings tables"
    )
    imports = "; ".join(f"import runtime.{name}" for name in modules.split()) + "; import runtime.tracking"
    check = (
        "import sys; bad = [m for m in sys.modules if m.split('.')[0] in ('oracle_node', 'protocol_core')]"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"{imports}; {check}; print(bad)"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
