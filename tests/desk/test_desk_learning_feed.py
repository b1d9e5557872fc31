"""The desk's learning log on the session chain: a paid job becomes one redacted `Resolution` line with
the worker's summary, once it has stayed final for the confirmations; a reorg that undoes the payment
writes nothing; a restart, a line cut short by a crash and a refund without evidence add no line."""

import time

from sqlalchemy import select, update

from escalation.desk.learning_feed import LearningFeed, fed
from escalation.learning import Resolution
from escalation.models import Trigger
from protocol_core.evidence import EvidenceBundle, Outcome
from runtime.db import transaction
from tests.desk.conftest import follow, request
from tests.desk.test_desk_follow import terms_of

CONFIRMATIONS = 2
SUMMARY = "Refunded the duplicate charge and told the customer at jane@example.com."


def submitted_job(service, system, worker):
    """A job the desk posted for a `novel` ticket, accepted by `worker`, its evidence bundle stored at the
    desk and its hash submitted on chain; returns (desk id, terms, evidence hash)."""
    view = service.desk.escalate(request(triggers=("novel",), agent_confidence=0.4))
    follow(service, view.desk_id, "open")
    terms = terms_of(service, view.desk_id)
    system.escrow.acceptJob(terms.as_abi(), sender=worker)
    follow(service, view.desk_id, "accepted")
    job_id = "0x" + terms.digest().hex()
    bundle = EvidenceBundle(
        version=1, chain_id=service.desk.chain_id, escrow=str(system.escrow.address), job_id=job_id,
        ticket_ref=view.ticket_ref, outcome=Outcome.RESOLVED, confirmed_at=int(time.time()), summary=SUMMARY,
        confirmation="0x" + "11" * 65,
    )  # fmt: skip
    stored = service.workers.store_evidence(job_id, str(worker.address), bundle.canonical())
    system.escrow.submitEvidence(terms.digest(), bundle.digest(), stored.uri, sender=worker)
    return view.desk_id, terms, bundle.digest()


def attest(system, operators, terms, evidence) -> None:
    for operator in operators[:2]:
        system.oracle.attest(terms.digest(), evidence, True, 0, terms.as_abi(), sender=operator)


def lines(path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_paid_job_is_one_redacted_resolution_once_confirmed_and_a_reorg_writes_nothing(
    make_desk, system, sealed_worker, operators, chain, tmp_path
):
    worker, _ = sealed_worker
    log = tmp_path / "learned.jsonl"
    wiring = {"learning_log": log, "learning_confirmations": CONFIRMATIONS}
    service = make_desk(wiring=wiring)
    desk_id, terms, evidence = submitted_job(service, system, worker)
    follow(service, desk_id, "submitted")

    snapshot = chain.snapshot()
    attest(system, operators, terms, evidence)
    follow(service, desk_id, "paid")
    assert lines(log) == []  # final, but not yet for CONFIRMATIONS blocks
    chain.restore(snapshot)  # the payment leaves the chain
    chain.mine(CONFIRMATIONS + 8)  # past the head at which the payment was seen
    follow(service, desk_id, "submitted")  # the feed read the chain again and sent the job back
    assert lines(log) == []

    attest(system, operators, terms, evidence)
    follow(service, desk_id, "paid")
    chain.mine(CONFIRMATIONS)
    service.follower.run_once()
    (line,) = lines(log)
    resolution = Resolution.model_validate_json(line)
    assert resolution.verdict == "approved" and resolution.triggers == (Trigger.NOVEL,)
    assert resolution.summary == "Refunded the duplicate charge and told the customer at [EMAIL]."
    assert resolution.ticket.id == service.desk.view(desk_id).ticket_ref
    assert resolution.ticket.agent_confidence == 0.4
    assert [(m.role, m.text) for m in resolution.ticket.messages] == [
        ("customer", "Charged twice! Mail me at [EMAIL]"),
        ("agent", "I see two charges of 49 USD."),
    ]
    assert resolution.resolved_at > 0

    # a restarted desk on the same database writes nothing again
    again = make_desk(wiring=wiring)
    chain.mine(CONFIRMATIONS)
    again.follower.run_once()
    assert lines(log) == [line]

    # a crash after the line was recorded, half of it on disk: the next pass completes it, once
    log.write_text(line[: len(line) // 2])
    with transaction(again.desk.engine) as db:
        db.execute(update(fed).where(fed.c.desk_id == desk_id).values(written=False))
    unwritable = LearningFeed(again.desk.engine, again.desk.contracts, again.store, tmp_path)  # a folder
    assert unwritable.run_once(chain.blocks.height) == 0  # logged, nothing raised: the desk goes on
    with again.desk.engine.connect() as db:
        assert db.execute(select(fed.c.written).where(fed.c.desk_id == desk_id)).scalar_one() is False
    again.follower.run_once()
    assert lines(log) == [line]
    with transaction(again.desk.engine) as db:
        db.execute(update(fed).where(fed.c.desk_id == desk_id).values(written=False))
    again.follower.run_once()  # the whole line is there already: nothing is added
    assert lines(log) == [line]


def test_refund_without_evidence_adds_no_line_and_says_why(make_desk, chain, tmp_path):
    log = tmp_path / "learned.jsonl"
    service = make_desk(wiring={"learning_log": log, "learning_confirmations": 0})
    view = service.desk.escalate(request(triggers=("frustration",)))
    follow(service, view.desk_id, "open")
    service.desk.cancel(view.desk_id)
    follow(service, view.desk_id, "refunded")
    service.follower.run_once()
    assert lines(log) == []
    with service.desk.engine.connect() as db:
        row = db.execute(select(fed).where(fed.c.desk_id == view.desk_id)).one()
    assert (row.line, row.note, row.written) == ("", "no evidence was submitted", True)
