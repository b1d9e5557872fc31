"""Oracle verification: each kind of bad evidence, served over real HTTP and from files, gets its reason."""

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from oracle_node.fetch import EvidenceFetcher
from oracle_node.settings import NodeSettings
from oracle_node.verdicts import Reason, VerificationRequest
from oracle_node.verify import Verifier, verify_bundle
from protocol_core.evidence import Outcome, sign_confirmation
from tests.oracle_node.evidence_server import (
    CHAIN_ID,
    CONFIRMER_KEY,
    ESCROW,
    JOB_ID,
    OTHER_KEY,
    ZERO_ADDRESS,
    EvidenceServer,
    Route,
    make_bundle,
    make_request,
    serving,
)

ATTEMPTS = 3
GOOD = make_bundle().canonical()


@dataclass
class Env:
    """A running server, a file root with a folder beside it, a refused port and a record of sleeps."""

    server: EvidenceServer
    root: Path
    outside: Path
    refused_port: int
    sleeps: list[float] = field(default_factory=list)

    def verifier(self, **fetcher: Any) -> Verifier:
        options = {
            "max_bytes": 4096,
            "timeout": 2.0,
            "file_root": self.root,
            "ipfs_gateway": self.server.url("/ipfs/"),
            "allow_private_hosts": True,
            **fetcher,
        }
        return Verifier(EvidenceFetcher(**options), attempts=ATTEMPTS, backoff=0, sleep=self.sleeps.append)

    def serve(self, raw: bytes, **route: Any) -> VerificationRequest:
        return make_request(self.server.add("/evidence", Route(raw, **route)), raw)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    # Bound but never listening: connections to it are refused at once.
    with serving() as server, socket.socket() as refused:
        refused.bind(("127.0.0.1", 0))
        yield Env(server, root, outside, refused.getsockname()[1])


def _json(**changes: Any) -> bytes:
    fields = {**json.loads(GOOD), **changes}
    present = {key: value for key, value in fields.items() if value is not ...}
    return json.dumps(present, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _foreign_confirmation(**fields: Any) -> bytes:
    """The good bundle carrying the confirmer's signature of another job, chain or escrow."""
    signed = {"chain_id": CHAIN_ID, "escrow": ESCROW, "job_id": JOB_ID, **fields}
    signature = sign_confirmation(
        CONFIRMER_KEY, **signed, ticket_ref="ZD-1042", outcome=Outcome.RESOLVED, confirmed_at=1_750_000_000
    )
    return _json(confirmation=signature)


def _file(env: Env, name: str, raw: bytes = GOOD) -> Path:
    path = env.root / name
    path.write_bytes(raw)
    return path


def _symlink_out(env: Env) -> VerificationRequest:
    (env.outside / "bundle.json").write_bytes(GOOD)
    (env.root / "link.json").symlink_to(env.outside / "bundle.json")
    return make_request((env.root / "link.json").as_uri(), GOOD)


def _dot_dot_out(env: Env) -> VerificationRequest:
    (env.outside / "bundle.json").write_bytes(GOOD)
    return make_request(f"file://{env.root}/../outside/bundle.json", GOOD)


def _ipfs(env: Env) -> VerificationRequest:
    env.server.add("/ipfs/bafybeibundle", Route(GOOD))
    return make_request("ipfs://bafybeibundle", GOOD)


@dataclass(frozen=True)
class Case:
    """One row of the table: how the evidence is served, and the verdict the node must reach."""

    name: str
    serve: Callable[[Env], VerificationRequest]
    reason: Reason
    fetcher: dict[str, Any] = field(default_factory=dict)
    hits: int | None = None  # requests the server must have seen on /evidence
    sleeps: int = 0  # retries the verifier must have waited for

    @property
    def approve(self) -> bool:
        return self.reason is Reason.CONFIRMED


OVER = {"max_bytes": len(GOOD) - 1}
EXACT = {"max_bytes": len(GOOD)}
CASES = [
    Case("good-http", lambda e: e.serve(GOOD), Reason.CONFIRMED, hits=1),
    Case("good-file", lambda e: make_request(_file(e, "b.json").as_uri(), GOOD), Reason.CONFIRMED),
    Case("good-ipfs-local-gateway", _ipfs, Reason.CONFIRMED, fetcher={"allow_private_hosts": False}),
    Case(
        "good-after-redirect",
        lambda e: make_request(
            e.server.add("/moved", Route(status=302, headers={"Location": e.serve(GOOD).uri})), GOOD
        ),
        Reason.CONFIRMED,
        hits=1,
    ),
    Case("exactly-max-bytes", lambda e: e.serve(GOOD), Reason.CONFIRMED, fetcher=EXACT),
    Case(
        "exactly-max-bytes-streamed", lambda e: e.serve(GOOD, content_length=False), Reason.CONFIRMED, EXACT
    ),
    Case(
        "wrong-hash",
        lambda e: make_request(e.serve(GOOD).uri, GOOD, evidence_hash=keccak(b"other")),
        Reason.HASH_MISMATCH,
    ),
    Case("bad-json", lambda e: e.serve(b'{"version":1,'), Reason.MALFORMED),
    Case("not-utf8", lambda e: e.serve(GOOD.replace("é".encode(), b"\xe9")), Reason.MALFORMED),
    Case(
        "duplicate-key",
        lambda e: e.serve(GOOD.replace(b'"version":1', b'"version":1,"version":1')),
        Reason.MALFORMED,
    ),
    Case("deeply-nested", lambda e: e.serve(b"[" * 4000), Reason.MALFORMED),
    Case("unknown-field", lambda e: e.serve(_json(tip=5)), Reason.SCHEMA),
    Case("missing-field", lambda e: e.serve(_json(summary=...)), Reason.SCHEMA),
    Case("float-for-int", lambda e: e.serve(GOOD.replace(b"1750000000", b"1750000000.0")), Reason.SCHEMA),
    Case("not-canonical", lambda e: e.serve(json.dumps(json.loads(GOOD), indent=2).encode()), Reason.SCHEMA),
    Case("oversized", lambda e: e.serve(GOOD), Reason.OVERSIZED, fetcher=OVER),
    Case("oversized-streamed", lambda e: e.serve(GOOD, content_length=False), Reason.OVERSIZED, OVER),
    Case("oversized-file", lambda e: make_request(_file(e, "b.json").as_uri(), GOOD), Reason.OVERSIZED, OVER),
    Case(
        "connection-refused",
        lambda e: make_request(f"http://127.0.0.1:{e.refused_port}/evidence", GOOD),
        Reason.UNREACHABLE,
        sleeps=ATTEMPTS - 1,
    ),
    Case("503", lambda e: e.serve(b"", status=503), Reason.UNREACHABLE, hits=ATTEMPTS, sleeps=ATTEMPTS - 1),
    Case("429", lambda e: e.serve(b"", status=429), Reason.UNREACHABLE, hits=ATTEMPTS, sleeps=ATTEMPTS - 1),
    Case(
        "slow", lambda e: e.serve(GOOD, delay=30), Reason.UNREACHABLE, {"timeout": 0.2}, sleeps=ATTEMPTS - 1
    ),
    Case("404", lambda e: e.serve(b"gone", status=404), Reason.UNREACHABLE, hits=1),
    Case("410", lambda e: e.serve(b"gone", status=410), Reason.UNREACHABLE, hits=1),
    Case("missing-file", lambda e: make_request((e.root / "nope.json").as_uri(), GOOD), Reason.UNREACHABLE),
    Case("wrong-key", lambda e: e.serve(make_bundle(OTHER_KEY).canonical()), Reason.BAD_SIGNATURE),
    Case(
        "signed-other-job",
        lambda e: e.serve(_foreign_confirmation(job_id=keccak(b"job-2"))),
        Reason.BAD_SIGNATURE,
    ),
    Case(
        "signed-other-chain", lambda e: e.serve(_foreign_confirmation(chain_id=80002)), Reason.BAD_SIGNATURE
    ),
    Case(
        "signed-other-escrow",
        lambda e: e.serve(_foreign_confirmation(escrow=ZERO_ADDRESS)),
        Reason.BAD_SIGNATURE,
    ),
    Case("invalid-signature", lambda e: e.serve(_json(confirmation="0x" + "00" * 65)), Reason.BAD_SIGNATURE),
    Case(
        "names-other-job",
        lambda e: e.serve(make_bundle(job_id=keccak(b"job-2")).canonical()),
        Reason.WRONG_JOB,
    ),
    Case("names-other-chain", lambda e: e.serve(make_bundle(chain_id=80002).canonical()), Reason.WRONG_JOB),
    Case(
        "unresolved",
        lambda e: e.serve(make_bundle(outcome=Outcome.UNRESOLVED).canonical()),
        Reason.NOT_RESOLVED,
    ),
    Case("ftp", lambda e: make_request("ftp://127.0.0.1/evidence", GOOD), Reason.UNSUPPORTED_URI),
    Case("ipfs-dot-dot", lambda e: make_request("ipfs://bafybeibundle/../api", GOOD), Reason.UNSUPPORTED_URI),
    Case("no-scheme", lambda e: make_request("evidence.json", GOOD), Reason.UNSUPPORTED_URI),
    Case(
        "file-without-root",
        lambda e: make_request(_file(e, "b.json").as_uri(), GOOD),
        Reason.UNSUPPORTED_URI,
        fetcher={"file_root": None},
    ),
    Case("file-dot-dot-escape", _dot_dot_out, Reason.UNREACHABLE),
    Case("file-symlink-escape", _symlink_out, Reason.UNREACHABLE),
    Case(
        "redirect-to-file",
        lambda e: e.serve(b"", status=302, headers={"Location": f"file://{_file(e, 'b.json')}"}),
        Reason.UNREACHABLE,
        hits=1,
    ),
    Case("private-host", lambda e: e.serve(GOOD), Reason.UNREACHABLE, {"allow_private_hosts": False}, hits=0),
    Case(
        "private-host-by-name",
        lambda e: make_request(e.serve(GOOD).uri.replace("127.0.0.1", "localhost"), GOOD),
        Reason.UNREACHABLE,
        fetcher={"allow_private_hosts": False},
        hits=0,
    ),
    Case(
        "zero-confirmer",
        lambda e: make_request(e.serve(GOOD).uri, GOOD, confirmer=ZERO_ADDRESS),
        Reason.UNCONFIRMABLE,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_evidence_table(env: Env, case: Case):
    verdict = env.verifier(**case.fetcher).verify(case.serve(env))
    assert (verdict.approve, verdict.reason) == (case.approve, case.reason), verdict.detail
    if case.hits is not None:
        assert env.server.hits["/evidence"] == case.hits
    assert len(env.sleeps) == case.sleeps


def test_not_canonical_says_so(env: Env):
    verdict = env.verifier().verify(env.serve(json.dumps(json.loads(GOOD)).encode()))
    assert verdict.reason is Reason.SCHEMA
    assert "not canonical" in verdict.detail


def test_backoff_doubles_between_attempts(env: Env):
    sleeps: list[float] = []
    fetcher = EvidenceFetcher(max_bytes=4096, timeout=2.0, allow_private_hosts=True)
    verifier = Verifier(fetcher, attempts=4, backoff=0.5, sleep=sleeps.append)
    verdict = verifier.verify(env.serve(b"", status=503))
    assert verdict.reason is Reason.UNREACHABLE
    assert sleeps == [0.5, 1.0, 2.0]
    assert env.server.hits["/evidence"] == 4


def test_unexpected_error_is_a_rejection_not_a_crash():
    request = make_request("https://example.org/b.json", GOOD, confirmer="not an address")
    check = verify_bundle(request, GOOD)
    assert (check.verdict.approve, check.verdict.reason) == (False, Reason.MALFORMED)
    assert "unexpected" in check.verdict.detail


def test_zero_confirmer_marks_the_helpdesk_as_required():
    check = verify_bundle(make_request("https://example.org/b.json", GOOD, confirmer=ZERO_ADDRESS), GOOD)
    assert check.needs_helpdesk and check.ticket_ref == "ZD-1042"
    assert (check.verdict.approve, check.verdict.reason) == (False, Reason.UNCONFIRMABLE)


def test_from_settings_builds_a_working_verifier(env: Env):
    settings = NodeSettings(evidence_max_bytes=len(GOOD), allow_private_hosts=True, fetch_backoff=0)
    verdict = Verifier.from_settings(settings).verify(env.serve(GOOD))
    assert (verdict.approve, verdict.reason) == (True, Reason.CONFIRMED)
