"""Offers on the session chain: the desk offers an open job to the best worker the indexer knows, to the
next best after the timeout, relaxes the score bar when nobody above it is left, records who accepted,
and tells the agent at once (and why) when nobody eligible exists."""

import hashlib
import hmac
import json
from collections import Counter

import pytest
from fastapi import FastAPI, Request
from sqlalchemy import select

from devtools.chain import wait_for
from escalation.desk.notices import SIGNATURE_HEADER
from escalation.desk.offers import MATCHING, NO_ELIGIBLE, OfferConfig
from escalation.desk.serving import ServerThread
from escalation.desk.tables import matches, notices
from escalation.matching.score import ScoreWeights
from escalation.matching.source import LivePool
from indexer.queries import ReadModel
from indexer.service import READ_ONLY
from indexer.tables import metadata as indexer_tables
from indexer.wiring import cursor_for
from runtime.chain import Chain
from runtime.db import connect
from runtime.metrics import RuntimeMetrics
from tests.desk.conftest import SECRET, follow, request
from tests.desk.test_desk_follow import terms_of

TIMEOUT = 30.0


class Clock:
    """The offers' clock, moved by the test: timeouts without sleeping."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def candidates(tmp_path, rpc_url, addresses):
    """The indexer's read model on the session chain, caught up to the head before every read."""
    chain = Chain.over_http(rpc_url)
    engine = connect(f"sqlite:///{tmp_path}/indexer.db", indexer_tables)
    cursor = cursor_for(chain, engine, RuntimeMetrics("indexer_test"), addresses, 0, 2_000)
    cursor.bind(chain.chain_id(), READ_ONLY)
    live = LivePool(ReadModel(engine))

    def source(signals):
        cursor.poll(chain.head())
        return live.pool(signals)

    return source


@pytest.fixture
def offering_desk(make_desk, candidates):
    def make(**config):
        clock = Clock()
        offers = OfferConfig(timeout_s=TIMEOUT, **config)
        service = make_desk(wiring={"candidates": candidates, "offers": offers, "clock": clock})
        return service, clock

    return make


def match_of(service, desk_id):
    with service.desk.engine.connect() as db:
        return db.execute(select(matches).where(matches.c.desk_id == desk_id)).first()


def test_offer_goes_to_the_best_then_the_next_after_the_timeout_and_the_acceptance_is_recorded(
    offering_desk, sealed_worker, worker, system
):
    second_worker, _ = sealed_worker
    service, clock = offering_desk()
    view = service.desk.escalate(request())
    follow(service, view.desk_id, "open")  # the pass that saw the job open made the first offer
    offers = service.follower.offers
    (first,) = offers.history(view.desk_id)
    ranked = [address.lower() for address, _ in first["ranked"]]
    assert sorted(ranked) == sorted([str(worker.address).lower(), str(second_worker.address).lower()])
    assert (first["worker"], first["rank"], first["answer"], first["relaxed"]) == (
        ranked[0],
        1,
        "pending",
        False,
    )
    assert first["reasons"][0].startswith(("punctuality", "disputes", "eligible"))
    assert first["offered_at"] == clock.now and first["hook_delivered"] is None

    clock.now += TIMEOUT - 1
    assert offers.run_once() == 0  # still the first worker's turn
    clock.now += 1
    assert offers.run_once() == 1
    expired, second = offers.history(view.desk_id)
    assert (expired["answer"], expired["answered_at"]) == ("expired", clock.now)
    assert (second["worker"], second["rank"], second["answer"]) == (ranked[1], 2, "pending")

    taker = worker if ranked[1] == str(worker.address).lower() else second_worker
    clock.now += 5
    system.escrow.acceptJob(terms_of(service, view.desk_id).as_abi(), sender=taker)
    follow(service, view.desk_id, "accepted")
    assert [o["answer"] for o in offers.history(view.desk_id)] == ["expired", "accepted"]
    assert offers.history(view.desk_id)[1]["answered_at"] == clock.now
    found = match_of(service, view.desk_id)
    assert (found.state, found.accepted_by) == ("accepted", ranked[1])
    # the next ranking knows how fast that worker answered
    assert offers._signals()[ranked[1]].response_s == 5


def test_nobody_above_the_score_bar_relaxes_at_once_and_the_worker_tool_hears_of_it(
    offering_desk, sealed_worker, worker
):
    received: list[tuple[dict, bool]] = []
    app = FastAPI()

    @app.post("/offer")
    async def hook(req: Request) -> dict:
        body = await req.body()
        good = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest() == req.headers[SIGNATURE_HEADER]
        received.append((json.loads(body), good))
        return {}

    server = ServerThread(app).start()
    try:
        hooks = {str(w.address): f"{server.url}/offer" for w in (worker, sealed_worker[0])}
        service, _ = offering_desk(weights=ScoreWeights(min_score=100), hooks=hooks)
        view = service.desk.escalate(request())
        follow(service, view.desk_id, "open")  # the hook is called within the pass that offers
    finally:
        server.stop()
    (offer,) = service.follower.offers.history(view.desk_id)
    assert offer["relaxed"] is True and offer["score"] < 100 and offer["hook_delivered"] is True
    assert match_of(service, view.desk_id).state == "relaxed"
    ((body, good),) = received
    assert good and (body["desk_id"], body["reasons"], body["score"]) == (
        view.desk_id,
        offer["reasons"],
        offer["score"],
    )
    assert body["answer_by"] == offer["offered_at"] + TIMEOUT


@pytest.mark.parametrize(
    ("over", "why"),
    [({"language": "fr"}, "no registered worker speaks fr"),
     ({"certifications": 0b1000}, "no worker who speaks en with that expertise holds certifications 0x8")],
)  # fmt: skip
def test_agent_is_told_at_once_when_nobody_is_eligible_and_why(offering_desk, over, why):
    service, _ = offering_desk()
    view = service.desk.escalate(request(**over))
    follow(service, view.desk_id, "open")
    assert service.follower.offers.history(view.desk_id) == []
    found = match_of(service, view.desk_id)
    assert (found.state, found.why) == (NO_ELIGIBLE, why)
    with service.desk.engine.connect() as db:
        told = db.execute(select(notices).where(notices.c.desk_id == view.desk_id)).all()
    assert [(n.status, n.detail) for n in told if n.status == NO_ELIGIBLE] == [(NO_ELIGIBLE, why)]


def test_settings_turn_offers_on_with_the_indexer_database(tmp_path):
    from escalation.desk.settings import DeskSettings
    from escalation.desk.wiring import _matching

    assert _matching(DeskSettings()) == {}
    hooks = {"0x" + "a" * 40: "http://127.0.0.1:9/offer"}
    settings = DeskSettings(indexer_database_url=f"sqlite:///{tmp_path}/indexer.db", offer_timeout_s=90,
                            offer_min_score=3, offer_hooks=hooks)  # fmt: skip
    found = _matching(settings)
    assert found["offers"].timeout_s == 90 and found["offers"].weights.min_score == 3
    assert found["offers"].hooks == {"0x" + "a" * 40: "http://127.0.0.1:9/offer"}
    assert len(found["candidates"]({})) == 0  # an empty read model: nobody to offer to


def test_parallel_jobs_hold_no_more_offers_per_worker_than_its_free_slots(
    offering_desk, worker, other_worker
):
    # Spanish speakers on the session chain: `worker` (2 slots) and `other_worker` (1 slot).
    service, _ = offering_desk()
    views = [service.desk.escalate(request(language="es")) for _ in range(4)]
    for view in views:
        follow(service, view.desk_id, "open")
    service.follower.offers.run_once()
    held = Counter(o["worker"] for v in views for o in service.follower.offers.history(v.desk_id))
    assert held == {str(worker.address).lower(): 2, str(other_worker.address).lower(): 1}
    assert sorted(match_of(service, v.desk_id).state for v in views) == ["offering"] * 3 + ["waiting"]


@pytest.fixture
def newcomers(chain, accounts, system):
    """Fresh worker keys with gas money; `register(i, languages, expertise, capacity)` signs them up."""
    made = [accounts.generate_test_account() for _ in range(3)]
    for account in made:
        chain.provider.set_balance(account.address, 10**18)

    def register(i, languages, expertise=0b1, capacity=1):
        system.registry.register(languages, expertise, capacity, b"\x11" * 32, "ipfs://new", sender=made[i])
        return str(made[i].address).lower()

    register.accounts = made  # type: ignore[attr-defined]
    return register


def offered(service, view):
    return [(o["worker"], o["answer"]) for o in service.follower.offers.history(view.desk_id)]


def test_jobs_due_together_are_assigned_together_so_the_only_speaker_goes_where_needed(
    offering_desk, newcomers
):
    # Japanese (29) and Korean (30): nobody else on the session chain speaks them. Both workers speak
    # Japanese; only the stronger one (more expertise) speaks Korean. Job by job, the Japanese job
    # would take the stronger one and the Korean job would wait.
    both = newcomers(0, 1 << 29 | 1 << 30, expertise=0b1111)
    japanese_only = newcomers(1, 1 << 29)
    service, _ = offering_desk()
    offers, service.follower.offers = service.follower.offers, None  # both open before offers start
    japanese = service.desk.escalate(request(language="ja"))
    korean = service.desk.escalate(request(language="ko"))
    follow(service, japanese.desk_id, "open")
    follow(service, korean.desk_id, "open")
    service.follower.offers = offers
    assert offers.run_once() == 2
    assert offered(service, japanese) == [(japanese_only, "pending")]
    assert offered(service, korean) == [(both, "pending")]
    (ranked_first, _), _ = service.follower.offers.history(japanese.desk_id)[0]["ranked"]
    assert ranked_first.lower() == both  # the best for the Japanese job, given where it was needed


def test_a_job_nobody_could_take_is_offered_when_a_worker_registers_and_the_agent_hears_it(
    offering_desk, newcomers
):
    service, _ = offering_desk()
    view = service.desk.escalate(request(language="th"))
    follow(service, view.desk_id, "open")
    assert (match_of(service, view.desk_id).state, offered(service, view)) == (NO_ELIGIBLE, [])
    service.follower.offers.run_once()  # nothing changed: nothing offered, nothing said again
    thai = newcomers(0, 1 << 26)
    wait_for(lambda: service.follower.run_once() >= 0 and offered(service, view) != [], timeout=20,
             what="the offer to the new Thai speaker")  # fmt: skip
    assert offered(service, view) == [(thai, "pending")]
    assert match_of(service, view.desk_id).state == "offering"
    with service.desk.engine.connect() as db:
        told = db.execute(select(notices).where(notices.c.desk_id == view.desk_id)).all()
    assert [(n.status, n.detail) for n in told if n.status in (NO_ELIGIBLE, MATCHING)] == [
        (NO_ELIGIBLE, "no registered worker speaks th"),
        (MATCHING, "eligible workers now: 1"),
    ]


def test_a_cancelled_job_closes_its_offer_and_frees_the_workers_slot(offering_desk, newcomers):
    thai = newcomers(0, 1 << 26)  # one slot
    service, _ = offering_desk()
    first = service.desk.escalate(request(language="th"))
    follow(service, first.desk_id, "open")
    assert offered(service, first) == [(thai, "pending")]
    service.desk.cancel(first.desk_id)
    follow(service, first.desk_id, "refunded")
    assert (offered(service, first), match_of(service, first.desk_id).state) == ([(thai, "closed")], "closed")
    second = service.desk.escalate(request(language="th"))
    follow(service, second.desk_id, "open")
    assert offered(service, second) == [(thai, "pending")]  # the cancelled job's offer holds no slot


def test_a_job_a_reorg_reopens_is_offered_again_to_the_next_worker(offering_desk, newcomers, chain, system):
    first = newcomers(0, 1 << 26, expertise=0b111)  # ranked first
    second = newcomers(1, 1 << 26)
    service, _ = offering_desk()
    view = service.desk.escalate(request(language="th"))
    follow(service, view.desk_id, "open")
    before = chain.snapshot()
    system.escrow.acceptJob(terms_of(service, view.desk_id).as_abi(), sender=newcomers.accounts[0])
    follow(service, view.desk_id, "accepted")
    assert offered(service, view) == [(first, "accepted")]
    chain.restore(before)  # the acceptance's block is orphaned; the chain goes on without it
    chain.mine(3)
    follow(service, view.desk_id, "open")
    assert offered(service, view) == [(first, "accepted"), (second, "pending")]
    assert match_of(service, view.desk_id).state == "offering"
