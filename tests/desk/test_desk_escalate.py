"""Escalating: policy, funds and a dry run before anything is sent; a post with a permit; the job
followed from chain events; its context sealed to the worker who accepted it."""

import pytest
from eth_utils import keccak
from nacl.public import PrivateKey
from sqlalchemy import select

from devtools.system import USDC
from escalation.desk.errors import InsufficientFunds, PolicyRefusal, UnknownJob, WouldRevert
from escalation.desk.requests import DeskStatus
from escalation.desk.tables import jobs
from protocol_core.content import FolderStore
from protocol_core.enums import JobStatus
from protocol_core.sealing import WrongKey, open_context
from runtime.tables import transactions
from tests.desk.conftest import follow, request


def sent(service) -> int:
    with service.desk.engine.connect() as db:
        return len(db.execute(select(transactions)).all())


def test_escalate_posts_with_permit_and_follows_the_job(make_desk, system, desk_agent):
    service = make_desk()
    view = service.desk.escalate(request())
    assert view.status == DeskStatus.POSTING
    assert view.redactions == {"card": 1, "email": 1}
    follow(service, view.desk_id, "open")  # the post is mined: anvil answers a send before it mines
    rest_of_the_day = 500 * USDC - view.total  # the permit covers the day's budget, not only this post
    assert system.token.allowance(desk_agent.address, system.escrow.address) == rest_of_the_day
    view = service.desk.view(view.desk_id)
    assert view.status == DeskStatus.OPEN
    assert JobStatus(system.escrow.jobState(view.job_id)[0]) == JobStatus.OPEN
    assert system.token.balanceOf(desk_agent.address) == 1_000 * USDC - view.total
    assert service.desk.view(view.ticket_ref).desk_id == view.desk_id  # by ticket too


def test_worker_who_accepts_gets_the_sealed_context(make_desk, system, desk_agent, sealed_worker, tmp_path):
    worker, key = sealed_worker
    service = make_desk()
    view = service.desk.escalate(request())
    follow(service, view.desk_id, "open")
    from protocol_core.terms import JobTerms

    with service.desk.engine.connect() as db:
        terms = JobTerms.model_validate_json(db.execute(select(jobs.c.terms)).scalar_one())
    system.escrow.acceptJob(terms.as_abi(), sender=worker)
    service.follower.run_once()
    view = service.desk.view(view.desk_id)
    assert view.status == DeskStatus.ACCEPTED and view.worker == worker.address
    (seal,) = view.seals
    assert (seal.reader, seal.role) == (worker.address, "worker")
    blob = service.store.get(seal.uri, seal.blob)
    bundle = open_context(blob, key, agent=desk_agent.address, spec_hash=terms.spec_hash)
    assert "jane@example.com" not in bundle.canonical().decode() and "[EMAIL]" in bundle.conversation[0].text
    with pytest.raises(WrongKey):
        open_context(blob, PrivateKey.generate(), agent=desk_agent.address)
    service.follower.run_once()
    assert len(service.desk.view(view.desk_id).seals) == 1  # handed over once
    assert FolderStore(tmp_path / "blobs").get(seal.blob) == blob


def test_policy_refusals_send_nothing(make_desk):
    service = make_desk()
    with pytest.raises(PolicyRefusal, match="over the policy's maximum of 100 USDC"):
        service.desk.escalate(request(reward=101 * USDC))
    waiting = service.desk.escalate(request(reward=60 * USDC))
    assert waiting.status == DeskStatus.AWAITING_APPROVAL and waiting.job_id is None
    assert sent(service) == 0
    assert service.desk.approve(waiting.desk_id).status == DeskStatus.POSTING
    assert sent(service) == 1


def test_daily_budget_counts_what_was_committed(make_desk):
    from escalation.desk.policy import SpendPolicy

    service = make_desk(
        policy=SpendPolicy(max_reward=100 * USDC, daily_budget=50 * USDC, approval_threshold=100 * USDC)
    )
    service.desk.escalate(request(reward=30 * USDC))
    with pytest.raises(PolicyRefusal, match="over the daily budget of 50 USDC"):
        service.desk.escalate(request(reward=30 * USDC))
    assert sent(service) == 1


def test_insufficient_usdc_or_allowance_is_refused_before_sending(make_desk, system, deployer):
    from eth_account import Account

    poor = Account.create()
    service = make_desk(agent=poor)
    with pytest.raises(InsufficientFunds, match=r"holds 0 USDC; this needs 20\.7 USDC"):
        service.desk.escalate(request())
    system.token.mint(poor.address, 100 * USDC, sender=deployer)
    no_permit = make_desk(agent=poor, use_permit=False, database_url=None)
    with pytest.raises(InsufficientFunds, match="approve the escrow or turn use_permit on"):
        no_permit.desk.escalate(request())
    assert sent(service) == 0


def test_unknown_job_is_named(make_desk):
    with pytest.raises(UnknownJob, match="no escalation 'esc-nothing'"):
        make_desk().desk.view("esc-nothing")
    with pytest.raises(UnknownJob):
        make_desk().desk.cancel("0x" + keccak(b"x").hex())


def test_a_refused_post_leaves_no_trace_and_takes_no_permit_nonce(make_desk, system, desk_agent, deployer):
    service = make_desk()
    system.token.setBlacklisted(desk_agent.address, True, sender=deployer)  # the permit's pull would revert
    with pytest.raises(WouldRevert, match=r"posting esc-\w+ .*would revert .*; nothing was sent"):
        service.desk.escalate(request())
    assert service.desk.list() == [] and service.desk.budget().committed == 0 and sent(service) == 0
    system.token.setBlacklisted(desk_agent.address, False, sender=deployer)
    view = service.desk.escalate(request())  # signed at the token's own nonce: the refusal burnt none
    follow(service, view.desk_id, "open")
