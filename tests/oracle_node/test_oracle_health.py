"""The node's operating surface: /healthz, /readyz and /metrics over real HTTP, and its JSON-lines logs."""

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from oracle_node.metrics import NodeMetrics
from runtime.health import HealthServer
from runtime.logs import REDACTED, configure_logging


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def health(clock) -> Iterator[HealthServer]:
    server = HealthServer("127.0.0.1", 0, NodeMetrics(), staleness=10.0, clock=clock)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def http(health) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{health.port}", timeout=5.0) as client:
        yield client


def test_healthz_ok_while_the_loop_beats(health, http, clock):
    clock.now += 9.0
    health.beat()
    clock.now += 9.0
    response = http.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok\n")


def test_healthz_503_when_the_last_beat_is_stale(health, http, clock):
    health.beat()
    clock.now += 10.5
    response = http.get("/healthz")
    assert response.status_code == 503
    assert response.text.startswith("stale: last pass 10.5s ago")
    health.beat()
    assert http.get("/healthz").status_code == 200


def test_readyz_503_with_the_reason_until_ready(health, http):
    first = http.get("/readyz")
    assert (first.status_code, first.text) == (503, "starting\n")
    health.set_ready(False, "12 blocks behind the head")
    behind = http.get("/readyz")
    assert (behind.status_code, behind.text) == (503, "12 blocks behind the head\n")
    health.set_ready(True, "0 blocks behind the head")
    ready = http.get("/readyz")
    assert (ready.status_code, ready.text) == (200, "ready\n")
    health.set_ready(False, "RPC unreachable: connection refused")
    assert http.get("/readyz").text == "RPC unreachable: connection refused\n"


def test_unknown_path_is_404(http):
    assert http.get("/").status_code == 404


def test_metrics_serves_labelled_samples_after_updates(health, http):
    metrics = health.metrics
    metrics.events_seen.labels(event="EvidenceSubmitted").inc(3)
    metrics.verdicts.labels(approve="false", reason="HASH_MISMATCH").inc()
    metrics.head_block.set(120)
    metrics.cursor_block.set(117)
    metrics.lag_blocks.set(3)
    metrics.reorgs.inc()
    metrics.attestation_latency_seconds.observe(0.7)
    metrics.pending_transactions.set(2)
    metrics.transactions_sent.inc(4)
    metrics.gas_bumps.inc()
    metrics.verification_retries.inc(2)
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    assert samples[("oracle_node_events_seen_total", (("event", "EvidenceSubmitted"),))] == 3
    assert samples[("oracle_node_verdicts_total", (("approve", "false"), ("reason", "HASH_MISMATCH")))] == 1
    assert samples[("oracle_node_head_block", ())] == 120
    assert samples[("oracle_node_cursor_block", ())] == 117
    assert samples[("oracle_node_lag_blocks", ())] == 3
    assert samples[("oracle_node_reorgs_total", ())] == 1
    assert samples[("oracle_node_attestation_latency_seconds_bucket", (("le", "0.5"),))] == 0
    assert samples[("oracle_node_attestation_latency_seconds_bucket", (("le", "1.0"),))] == 1
    assert samples[("oracle_node_attestation_latency_seconds_count", ())] == 1
    assert samples[("oracle_node_pending_transactions", ())] == 2
    assert samples[("oracle_node_transactions_sent_total", ())] == 4
    assert samples[("oracle_node_gas_bumps_total", ())] == 1
    assert samples[("oracle_node_verification_retries_total", ())] == 2


def test_metrics_of_two_nodes_are_independent():
    first, second = NodeMetrics(), NodeMetrics()
    first.reorgs.inc()
    assert b"oracle_node_reorgs_total 1.0" in first.render()
    assert b"oracle_node_reorgs_total 0.0" in second.render()


def test_health_server_stops_and_frees_its_port(clock):
    server = HealthServer(clock=clock)
    server.start()
    port = server.port
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5.0)


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("debug", stream)
    yield stream
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_logs_are_json_lines_with_extras(log_stream):
    before = datetime.now().astimezone()
    logging.getLogger("oracle_node.sender").info(
        "sent %s", "attestation", extra={"job_id": "0x" + "ab" * 32, "tx_hash": b"\x12" * 32}
    )
    logging.getLogger("oracle_node").debug("pass done")
    first, second = lines(log_stream)
    ts = datetime.fromisoformat(first.pop("ts"))
    assert ts.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= ts <= datetime.now().astimezone()
    assert first == {
        "level": "INFO",
        "logger": "oracle_node.sender",
        "msg": "sent attestation",
        "job_id": "0x" + "ab" * 32,
        "tx_hash": "0x" + "12" * 32,
    }
    assert (second["level"], second["msg"]) == ("DEBUG", "pass done")


def test_logs_redact_secrets_in_extras(log_stream):
    secrets = {"passphrase": "hunter2", "helpdesk_token": "tok-123", "private_key": "0xdead"}
    nested = {"url": "https://desk.example", "password": "pw-456"}
    logging.getLogger("oracle_node.wiring").warning("loaded", extra={**secrets, "helpdesk": nested})
    (line,) = lines(log_stream)
    assert all(line[key] == REDACTED for key in secrets)
    assert line["helpdesk"] == {"url": "https://desk.example", "password": REDACTED}
    assert not any(secret in log_stream.getvalue() for secret in ("hunter2", "tok-123", "0xdead", "pw-456"))


def test_logs_carry_the_exception(log_stream):
    try:
        raise ValueError("bad bundle")
    except ValueError:
        logging.getLogger("oracle_node").exception("verification crashed", extra={"job_id": "0x01"})
    (line,) = lines(log_stream)
    assert (line["level"], line["job_id"]) == ("ERROR", "0x01")
    assert line["exc"].endswith("ValueError: bad bundle")


def test_configure_logging_twice_replaces_its_handler(log_stream):
    second = io.StringIO()
    configure_logging("warning", second)
    logging.getLogger("oracle_node").info("quiet")
    logging.getLogger("oracle_node").warning("loud")
    assert log_stream.getvalue() == ""
    assert [line["msg"] for line in lines(second)] == ["loud"]


def test_configure_logging_refuses_an_unknown_level():
    with pytest.raises(ValueError, match="unknown log level 'verbose'"):
        configure_logging("verbose", io.StringIO())
