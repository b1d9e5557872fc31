"""Offers between real processes on the session chain: the indexer, the desk daemon reading its database,
and the simulated workers (one process, a key each) that answer the desk's signed offers after a
delay or never. One set of processes carries two jobs at once: one falls back from a worker who never
answers past one who answers too late to one who accepts; nobody can take the other until a worker who
speaks its language registers, and then it is offered and accepted."""

import itertools
import json

import pytest
from eth_account import Account
from eth_utils import keccak
from sqlalchemy import create_engine, select

from devtools.chain import wait_for
from devtools.desk import API_KEY, DeskDaemon
from devtools.indexer import IndexerProcess
from devtools.offer_workers import OfferWorkers, SimulatedWorker
from escalation.desk.offers import MATCHING, NO_ELIGIBLE
from escalation.desk.requests import DeskStatus
from escalation.desk.sdk import DeskClient
from escalation.desk.tables import matches, notices, offers
from indexer.tables import metadata as indexer_tables
from protocol_core.deployment import save_deployment
from runtime.db import connect
from tests.desk.conftest import request

TIMEOUT = 3.0  # the desk's offer timeout, seconds of real time
VIETNAMESE, TAGALOG = 1 << 27, 1 << 31
SECRET = "offer-hook-secret"


@pytest.fixture
def world(tmp_path, chain, rpc_url, addresses, desk_agent):
    """Indexer, desk and the simulated workers' process, started at once; stopped after the test."""
    deployments = tmp_path / "deployments.json"
    save_deployment("polygon:local", addresses, deployments)
    # Ranked by expertise beyond the job's: `never` first, then `late`, then `ready`.
    simulated = [
        SimulatedWorker("never", VIETNAMESE, None, expertise=0b11111),
        SimulatedWorker("late", VIETNAMESE, 2 * TIMEOUT, expertise=0b111),
        SimulatedWorker("ready", VIETNAMESE, 0.1),
        SimulatedWorker("tagalog", TAGALOG, 0.1, register_at_start=False),
    ]
    keys = {w.name: bytes(Account.create().key) for w in simulated}
    for key in keys.values():
        chain.provider.set_balance(Account.from_key(key).address, 10**18)
    workers = OfferWorkers(tmp_path, rpc_url, addresses, SECRET, simulated, keys)
    (tmp_path / "indexer").mkdir()
    indexer = IndexerProcess(tmp_path / "indexer", rpc_url, deployments)
    connect(f"sqlite:///{indexer.database}", indexer_tables).dispose()  # the two never race to create it
    desk = DeskDaemon(
        tmp_path, rpc_url, deployments, bytes(desk_agent.key), callback_secret=SECRET,
        indexer_database_url=f"sqlite:///{indexer.database}", offer_timeout_s=TIMEOUT,
        offer_hooks=json.dumps(workers.hooks()),
    )  # fmt: skip
    started = [desk.start(wait=None), indexer.start(), workers.start()]  # the desk loads slowest
    for process in started:
        process.wait_ready()
    yield indexer, desk, workers
    for process in started:
        process.process.terminate()  # all at once, then each waited for
    for process in started:
        process.stop()


def table(desk, query):
    with create_engine(desk.database_url).connect() as db:
        return db.execute(query).all()


def settled_offers(desk, desk_id):
    """The job's offers once none is pending: the desk reads the job's status from the chain first and
    settles its offers later in the same tick, so a reader can see `accepted` a moment before them."""
    made = table(desk, select(offers).where(offers.c.desk_id == desk_id).order_by(offers.c.id))
    return made if made and all(o.answer != "pending" for o in made) else None


def test_offers_fall_back_past_silent_and_late_workers_and_reach_a_new_speaker(world):
    indexer, desk, workers = world
    never, late, ready, tagalog = (workers.addresses[n] for n in ("never", "late", "ready", "tagalog"))
    wait_for(lambda: all(indexer.get(f"/v1/workers/{a}") for a in (never, late, ready)),
             what="the three Vietnamese speakers indexed")  # fmt: skip
    client = DeskClient(desk.url, API_KEY)
    vi = client.escalate(request(language="vi"))
    tl = client.escalate(request(language="tl"))

    # Nobody speaks Tagalog: the agent is told at once; then a Tagalog speaker signs up.
    wait_for(lambda: table(desk, select(matches.c.state).where(matches.c.desk_id == tl.desk_id)) == [
        (NO_ELIGIBLE,)], what="the Tagalog job found no one")  # fmt: skip
    workers.register("tagalog")

    accepted = client.wait(vi.desk_id, until={DeskStatus.ACCEPTED}, timeout=60, poll=0.1)
    assert accepted.worker.lower() == ready
    made = wait_for(lambda: settled_offers(desk, vi.desk_id), what="the accepted offer settled")
    assert [(o.worker, o.rank, o.answer, o.hook_delivered) for o in made] == [
        (never, 1, "expired", True), (late, 2, "expired", True), (ready, 3, "accepted", True),
    ]  # fmt: skip
    assert all(b.offered_at - a.offered_at >= TIMEOUT for a, b in itertools.pairwise(made))
    assert [e["desk_id"] for e in workers.events("never", "offer")] == [vi.desk_id]
    answered = wait_for(lambda: workers.events("ready", "answer"), what="ready's answer")
    assert [e["outcome"] for e in answered] == ["ok"] and workers.events("never", "answer") == []
    # The late worker answers after its offer went to the next one, and finds the job taken.
    (late_answer,) = wait_for(lambda: workers.events("late", "answer"), what="the late answer")
    taken = "0x" + keccak(text="JobNotInStatus(bytes32,uint8,uint8)")[:4].hex()
    assert taken in late_answer["outcome"] and late_answer["at"] > made[2].offered_at

    tl_accepted = client.wait(tl.desk_id, until={DeskStatus.ACCEPTED}, timeout=60, poll=0.1)
    assert tl_accepted.worker.lower() == tagalog
    told = table(desk, select(notices.c.status, notices.c.detail).where(notices.c.desk_id == tl.desk_id))
    assert [(s, d) for s, d in told if s in (NO_ELIGIBLE, MATCHING)] == [
        (NO_ELIGIBLE, "no registered worker speaks tl"), (MATCHING, "eligible workers now: 1"),
    ]  # fmt: skip
    assert not any(workers.events(n, "bad_signature") for n in workers.addresses)
