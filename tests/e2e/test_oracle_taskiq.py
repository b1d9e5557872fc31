"""Verification scaled out: real taskiq worker processes on a real Redis verify what the node submits."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_utils import keccak

from devtools.chain import free_port
from devtools.servers import TaskiqWorkers as Workers
from oracle_node.errors import TransientVerificationError
from oracle_node.tasks import TaskiqVerification, request_from_dict, request_to_dict
from oracle_node.verdicts import Reason, Verdict, VerificationRequest
from protocol_core.evidence import Outcome, build_bundle

# Every worker starts before the first test: a module fixture joining later makes ape re-snapshot the chain.
pytestmark = pytest.mark.usefixtures("workers", "failing_worker")

CHAIN_ID = 137
ESCROW = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CONFIRMER_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"  # anvil account 3
CONFIRMER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
BATCH = 20
MAX_BATCHES = 10  # both workers must have shown up by then
RESULT_TIMEOUT = 60.0


def on_db(redis_url: str, db: int) -> str:
    """`redis_url` on another database: its own queue, its own workers."""
    return redis_url.rsplit("/", 1)[0] + f"/{db}"


def write_request(root: Path, n: int, *, good: bool) -> VerificationRequest:
    """Writes job `n`'s confirmed bundle under `root`; a bad request names another hash."""
    job_id = keccak(f"taskiq job {n}".encode())
    bundle = build_bundle(
        CONFIRMER_KEY,
        chain_id=CHAIN_ID,
        escrow=ESCROW,
        job_id=job_id,
        ticket_ref=f"ZD-{n}",
        outcome=Outcome.RESOLVED,
        confirmed_at=1_750_000_000 + n,
        summary=f"Ticket {n}: reset the customer's 2FA",
    )
    path = root / f"bundle-{n}.json"
    path.write_bytes(bundle.canonical())
    return VerificationRequest(
        chain_id=CHAIN_ID,
        escrow=ESCROW,
        job_id=job_id,
        evidence_hash=bundle.digest() if good else keccak(b"another bundle"),
        uri=path.as_uri(),
        confirmer=CONFIRMER,
    )


@pytest.fixture(scope="module")
def evidence_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("evidence")


@pytest.fixture(scope="module")
def workers(redis_server, evidence_root, tmp_path_factory) -> Iterator[Workers]:
    running = Workers(redis_server, 2, tmp_path_factory.mktemp("workers"), file_root=str(evidence_root))
    try:
        running.wait_listening()
        yield running
    finally:
        running.stop()


@pytest.fixture
def verification(redis_server) -> Iterator[TaskiqVerification]:
    client = TaskiqVerification(redis_server, timeout=RESULT_TIMEOUT)
    yield client
    client.close()


def test_request_round_trips_through_its_dict(evidence_root):
    request = write_request(evidence_root, 0, good=True)
    assert request_from_dict(request_to_dict(request)) == request
    assert request_to_dict(request)["job_id"] == "0x" + keccak(b"taskiq job 0").hex()


def test_submit_resolves_to_the_workers_verdicts(workers, verification, evidence_root):
    good = verification.submit(write_request(evidence_root, 1, good=True))
    bad = verification.submit(write_request(evidence_root, 2, good=False))
    assert good.result(RESULT_TIMEOUT) == Verdict(True, Reason.CONFIRMED, "confirmed by the customer")
    assert bad.result(RESULT_TIMEOUT).reason is Reason.HASH_MISMATCH
    assert bad.result().approve is False


def test_two_workers_share_the_verifications(workers, verification, evidence_root):
    pids: set[int] = set()
    checked = 0
    for batch in range(MAX_BATCHES):
        first = 100 + batch * BATCH
        requests = {n: write_request(evidence_root, n, good=n % 2 == 0) for n in range(first, first + BATCH)}
        futures = {n: verification.submit_traced(request) for n, request in requests.items()}
        for n, future in futures.items():
            verdict, pid = future.result(RESULT_TIMEOUT)
            expected = Reason.CONFIRMED if n % 2 == 0 else Reason.HASH_MISMATCH
            assert (verdict.approve, verdict.reason) == (n % 2 == 0, expected), (n, verdict)
            pids.add(pid)
            checked += 1
        if len(pids) == 2:
            break
    assert checked >= BATCH
    assert pids == workers.children(), f"after {checked} verifications only pids {pids} answered"


@pytest.fixture(scope="module")
def failing_worker(redis_server, evidence_root, tmp_path_factory) -> Iterator[Workers]:
    """A worker whose helpdesk is down, on its own database (so its own queue)."""
    helpdesk = f"http://127.0.0.1:{free_port()}/tickets/{{ticket_ref}}"
    settings = {"file_root": str(evidence_root), "helpdesk_url": helpdesk, "fetch_attempts": "1"}
    running = Workers(on_db(redis_server, 1), 1, tmp_path_factory.mktemp("failing"), **settings)
    try:
        running.wait_listening()
        yield running
    finally:
        running.stop()


def test_transient_error_in_the_worker_fails_the_future_with_it(failing_worker, evidence_root):
    client = TaskiqVerification(failing_worker.broker_url, timeout=RESULT_TIMEOUT)
    try:
        future = client.submit(write_request(evidence_root, 3, good=True))
        with pytest.raises(TransientVerificationError, match="helpdesk unreachable after 1 attempts"):
            future.result(RESULT_TIMEOUT)
    finally:
        client.close()


def test_no_worker_answering_is_transient(redis_server, evidence_root):
    client = TaskiqVerification(on_db(redis_server, 2), timeout=0.2)
    try:
        future = client.submit(write_request(evidence_root, 4, good=True))
        with pytest.raises(TransientVerificationError, match="no taskiq worker answered within"):
            future.result(RESULT_TIMEOUT)
    finally:
        client.close()


def test_unreachable_broker_is_transient_and_its_password_unsaid(evidence_root):
    client = TaskiqVerification(f"redis://:hunter2@127.0.0.1:{free_port()}/0", timeout=RESULT_TIMEOUT)
    try:
        future = client.submit(write_request(evidence_root, 5, good=True))
        with pytest.raises(TransientVerificationError, match=r"taskiq broker redis://:\*\*\*@127\.0\.0\.1"):
            future.result(RESULT_TIMEOUT)
        assert "hunter2" not in str(future.exception())
    finally:
        client.close()


def test_close_cancels_what_waits_for_a_worker(redis_server, evidence_root):
    client = TaskiqVerification(on_db(redis_server, 3), timeout=RESULT_TIMEOUT)
    future = client.submit(write_request(evidence_root, 6, good=True))
    client.close()
    assert future.cancelled()
    with pytest.raises(RuntimeError, match="closed"):
        client.submit(write_request(evidence_root, 7, good=True))
