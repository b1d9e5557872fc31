"""Fetch limits against a hostile evidence server: one deadline per fetch, headers included; a cap on
the inflated bytes, not the compressed ones."""

import gzip
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import pytest

from oracle_node.dispatch import LocalVerification
from oracle_node.errors import EvidenceTooLarge, TransientFetchError, TransientVerificationError
from oracle_node.fetch import EvidenceFetcher
from oracle_node.verify import Verifier
from tests.oracle_node.evidence_server import Route, make_bundle, make_request, serving

MAX_BYTES = 256 * 1024


def _fetcher(timeout: float = 0.5) -> EvidenceFetcher:
    return EvidenceFetcher(max_bytes=MAX_BYTES, timeout=timeout, allow_private_hosts=True)


def test_headers_sent_a_byte_at_a_time_end_at_the_fetch_deadline():
    outcome: list[BaseException | bytes] = []
    with serving() as server:
        url = server.add("/slow", Route(trickle=0.05))  # 10 KB of headers: over 8 minutes
        fetcher = _fetcher(timeout=0.5)

        def fetch() -> None:
            try:
                outcome.append(fetcher.fetch(url))
            except BaseException as error:
                outcome.append(error)

        started = time.monotonic()
        worker = threading.Thread(target=fetch, daemon=True)
        worker.start()
        worker.join(timeout=5)
        elapsed = time.monotonic() - started
    assert not worker.is_alive(), "the fetch outlived its deadline by far"
    assert elapsed < 2.0
    assert isinstance(outcome[0], TransientFetchError) and "0.5s" in str(outcome[0])


def test_gzip_bomb_is_refused_without_being_inflated():
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)  # 64 MiB in ~64 KB
    with serving() as server:
        url = server.add("/bomb", Route(bomb, headers={"Content-Encoding": "gzip"}))
        fetcher = _fetcher(timeout=5.0)
        tracemalloc.start()
        try:
            with pytest.raises(EvidenceTooLarge):
                fetcher.fetch(url)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 4 * MAX_BYTES + 2 * len(bomb), f"{peak} bytes allocated to refuse it"


def test_gzip_encoded_bundle_is_read_inflated():
    raw = make_bundle().canonical()
    with serving() as server:
        url = server.add("/gz", Route(gzip.compress(raw), headers={"Content-Encoding": "gzip"}))
        assert _fetcher().fetch(url) == raw


def test_closing_the_verifiers_cancels_fetches_in_flight_and_leaves_them_to_be_redone():
    with serving() as server:
        raw = make_bundle().canonical()
        url = server.add("/stalled", Route(raw, delay=60))
        fetcher = EvidenceFetcher(max_bytes=MAX_BYTES, timeout=30.0, allow_private_hosts=True)
        verification = LocalVerification(Verifier(fetcher, attempts=3, backoff=10), concurrency=2)
        running = verification.submit(make_request(url, raw))
        time.sleep(0.3)  # the request is on the wire
        started = time.monotonic()
        verification.close()  # what SIGTERM does
        assert time.monotonic() - started < 2.0
    with pytest.raises(TransientVerificationError, match="stopping"):
        running.result(timeout=1)  # not a verdict: the evidence is verified again at the next start


def test_a_stalling_host_holds_at_most_its_cap_of_threads_and_other_hosts_go_on():
    with serving() as server:
        raw = make_bundle().canonical()
        stalled = server.add("/stalled", Route(raw, delay=60))
        fetcher = EvidenceFetcher(max_bytes=MAX_BYTES, timeout=30.0, per_host=2, allow_private_hosts=True)
        verifier = Verifier(fetcher, attempts=1)
        pool = ThreadPoolExecutor(max_workers=2)
        holding = [pool.submit(verifier.verify, make_request(stalled, raw)) for _ in range(2)]
        time.sleep(0.3)
        started = time.monotonic()
        with pytest.raises(TransientVerificationError, match="fetches in flight"):
            verifier.verify(make_request(stalled, raw))  # back to the queue, not a verdict
        assert time.monotonic() - started < 0.5
        other_host = server.add("/ok", Route(raw)).replace("127.0.0.1", "localhost")
        assert fetcher.fetch(other_host) == raw
        verifier.cancel()
        assert all(isinstance(held.exception(timeout=2), TransientVerificationError) for held in holding)
        pool.shutdown()
