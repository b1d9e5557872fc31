"""The specialists of the simulated operation and the tools they work with.

Each specialist has an empty wallet and a real X25519 key, registers by signature (the onboarder
sends it), and works through the SDK's worker half (`DeskWorker`): the desk's signed offer arrives at
the specialist's webhook; the specialist accepts by signature (the desk relays it), fetches and opens
the sealed context, resolves the ticket (or fails to), the helpdesk reports the customer's word, and
the signed evidence goes to the three oracle nodes. Nothing here sends a transaction for a worker.
"""

import hashlib
import hmac
import json
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi import FastAPI, Request, Response
from nacl.public import PrivateKey

from escalation.desk.errors import DeskError, NotAllowedNow, NotYourJob
from escalation.desk.worker import DeskWorker, NodeRefused
from runtime.asgi import ServerThread

SIGNATURE_HEADER = "X-Desk-Signature"  # the desk's HMAC over offers and notices
HELPDESK_HEADER = "X-Helpdesk-Signature"
POLL = 0.05  # seconds between a specialist's looks at the desk while it waits for the desk


@dataclass(frozen=True)
class Specialist:
    """A support specialist: what they speak, know and are certified for, and how often they succeed."""

    name: str
    languages: tuple[str, ...]
    expertise: tuple[str, ...] = ()  # names of the engine's requirements.expertise_bits
    certifications: tuple[str, ...] = ()  # names of its requirements.certification_bits
    capacity: int = 3  # jobs at once
    success: float = 0.92  # share of tickets the customer confirms as resolved


CREW = (
    Specialist("ana", ("es", "en"), ("billing",), ("payments",)),
    Specialist("lucia", ("es",), ("complaints",), ("legal",)),
    Specialist("mateo", ("es", "fr", "en"), ("account_security",)),
    Specialist("jonas", ("de", "en"), ("account_security",), ("privacy_compliance",)),
    Specialist("greta", ("de",), ("complaints", "billing"), ("legal", "payments")),
    Specialist("klara", ("de", "fr"), ("complaints",)),
    Specialist("camille", ("fr", "en"), ("billing",), ("privacy_compliance", "legal", "payments")),
    Specialist("hugo", ("fr",), ("complaints",)),
    Specialist("sam", ("en",), ("billing", "account_security", "complaints"), ("payments",)),
    Specialist("priya", ("en", "es"), (), ("legal", "privacy_compliance")),
)


@dataclass
class Person:
    """A specialist with their keys (an empty wallet) and their desk client."""

    spec: Specialist
    account: LocalAccount
    x25519: PrivateKey
    worker: DeskWorker | None = None


@dataclass
class Work:
    """What happened to one offer the crew took: when, by whom, and how it ended."""

    desk_id: str
    job_id: str
    worker: str
    offered_at: float
    accepted_at: float | None = None
    handed_in_at: float | None = None
    resolved: bool | None = None
    summary: str = ""
    refused: str = ""  # why the crew could not finish it (taken by another, a refusal)


@dataclass
class Hub:
    """The operation's one HTTP server: offers to the specialists, the agent's callbacks."""

    secret: str
    on_offer: Callable[[str, dict[str, Any]], None]
    statuses: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # desk_id -> (status, at)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ServerThread | None = None

    def start(self) -> "Hub":
        app = FastAPI()

        @app.post("/offer/{name}")
        async def offer(name: str, request: Request) -> Response:
            body = await request.body()
            if not self._signed(body, request.headers.get(SIGNATURE_HEADER)):
                return Response(status_code=401)
            self.on_offer(name, json.loads(body))
            return Response(status_code=200)

        @app.post("/callbacks")
        async def callback(request: Request) -> Response:
            body = await request.body()
            if not self._signed(body, request.headers.get(SIGNATURE_HEADER)):
                return Response(status_code=401)
            notice = json.loads(body)
            with self.lock:
                self.statuses.setdefault(notice["desk_id"], []).append((notice["status"], time.monotonic()))
            return Response(status_code=200)

        self.server = ServerThread(app).start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def latest(self, desk_id: str) -> str | None:
        """The last status the desk reported for `desk_id`."""
        with self.lock:
            seen = self.statuses.get(desk_id)
            return seen[-1][0] if seen else None

    def first(self, desk_id: str, status: str) -> float | None:
        """When the desk first reported `status` for `desk_id` (monotonic seconds)."""
        with self.lock:
            return next((at for s, at in self.statuses.get(desk_id, []) if s == status), None)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def _signed(self, body: bytes, signature: str | None) -> bool:
        good = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return signature is not None and hmac.compare_digest(good, signature)


class Crew:
    """The specialists' tools: an offer is taken on a thread of its own, start to hand-in."""

    def __init__(
        self,
        specs: tuple[Specialist, ...],
        seed: int,
        work_s: Callable[[random.Random], float],
    ) -> None:
        self.people = {s.name: Person(s, Account.create(), PrivateKey.generate()) for s in specs}
        self.work_s = work_s
        self.helpdesk: Callable[[str, bool], None] = lambda ref, resolved: None
        self.node_urls: list[str] = []
        self.rng, self.rng_lock = random.Random(seed), threading.Lock()
        self.work: dict[str, Work] = {}
        self.errors: list[str] = []
        self._pool = ThreadPoolExecutor(
            max_workers=sum(s.capacity for s in specs), thread_name_prefix="worker"
        )

    def connect(
        self,
        desk_url: str,
        chain_id: int,
        escrow: str,
        helpdesk: Callable[[str, bool], None],
        nodes: list[str],
    ) -> None:
        """Each specialist's client of the desk (the SDK's worker half); the helpdesk; the nodes' intakes."""
        self.helpdesk, self.node_urls = helpdesk, nodes
        for person in self.people.values():
            person.worker = DeskWorker(
                desk_url, person.account, person.x25519, chain_id=chain_id, escrow=escrow
            )

    def hooks(self, hub_url: str) -> dict[str, str]:
        """Worker address -> its offer webhook, for the desk's `offer_hooks`."""
        return {p.account.address: f"{hub_url}/offer/{name}" for name, p in self.people.items()}

    def offered(self, name: str, offer: dict[str, Any]) -> None:
        """The desk's offer to `name`: taken on a thread of its own (the webhook answers at once)."""
        if name in self.people:
            self._pool.submit(self._take, self.people[name], offer)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for person in self.people.values():
            if person.worker is not None:
                person.worker.close()

    def _take(self, person: Person, offer: dict[str, Any]) -> None:
        desk_id, job_id = offer["desk_id"], offer["job_id"]
        work = Work(desk_id, job_id, person.spec.name, time.monotonic())
        self.work[desk_id] = work
        worker = person.worker
        assert worker is not None
        try:
            worker.accept(job_id)
            work.accepted_at = time.monotonic()
            context = _patiently(lambda: worker.context(job_id))  # sealed to this specialist's key
            with self.rng_lock:
                resolved, busy = self.rng.random() < person.spec.success, self.work_s(self.rng)
            time.sleep(busy)  # the specialist's work, at the operation's speed
            work.resolved = resolved
            work.summary = (
                f"Resolved '{context.issue[:80]}': reproduced it, applied the fix from the knowledge "
                "base and walked the customer through it; the customer confirmed."
                if resolved
                else f"Could not resolve '{context.issue[:80]}': the customer reports the problem persists."
            )
            self.helpdesk(context.ticket_ref, resolved)
            evidence = _patiently(lambda: worker.evidence(job_id, work.summary))
            refusals = []
            for url in self.node_urls:  # every operator gets the bundle; one of them submits it
                try:
                    worker.hand_in(url, evidence)
                except NodeRefused as refused:  # a node behind the chain, or down: the others carry it
                    refusals.append(str(refused))
            if len(refusals) == len(self.node_urls):
                raise NodeRefused("; ".join(refusals))
            work.handed_in_at = time.monotonic()
        except NodeRefused as error:  # no node took the evidence: the job runs to its deadline
            work.refused = str(error)
            self.errors.append(f"{person.spec.name} {job_id[:10]}: {error}")
        except DeskError as error:  # another specialist took it first, or the desk refused
            work.refused = str(error)
        except Exception as error:
            work.refused = f"{type(error).__name__}: {error}"
            self.errors.append(f"{person.spec.name} {job_id[:10]}: {work.refused}")


def _patiently(step: Callable[[], Any], timeout: float = 60.0) -> Any:
    """`step()` once the desk is ready for it: until it has seen the relayed acceptance mined it answers
    NotYourJob, and NotAllowedNow until the context is sealed or the customer's word is in."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return step()
        except (NotAllowedNow, NotYourJob):
            if time.monotonic() > deadline:
                raise
            time.sleep(POLL)


def post_helpdesk(desk_url: str, secret: str) -> Callable[[str, bool], None]:
    """The helpdesk's webhook to the desk: the customer's word on a ticket, HMAC-signed."""
    client = httpx.Client(timeout=10)

    def confirm(ticket_ref: str, resolved: bool) -> None:
        body = json.dumps(
            {"ticket_ref": ticket_ref, "outcome": "resolved" if resolved else "unresolved",
             "confirmed_at": int(time.time())}
        )  # fmt: skip
        signature = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
        answer = client.post(
            f"{desk_url}/v1/helpdesk/confirm", content=body, headers={HELPDESK_HEADER: signature}
        )
        answer.raise_for_status()

    return confirm
