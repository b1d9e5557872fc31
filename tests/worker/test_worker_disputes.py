"""The worker's dispute past the phase, on the session chain through the app's own core and pages: the
panel's votes shown one by one as they are revealed (who, when, which side), and an appeal of a ruling
against the worker, its cost and deadline shown first, in one click; a ruling for the worker offers none."""

import re

import pytest
from click.testing import CliRunner
from eth_account import Account
from fastapi.testclient import TestClient

from devtools.chain import free_port
from devtools.system import PARAMS, USDC
from protocol_core.deployment import save_deployment
from protocol_core.enums import JobStatus, RoundPhase, RulingOption
from tests.contracts.arbitration_helpers import (
    ARBITRATOR_STAKE,
    Jobs,
    after_appeal_window,
    commit_votes,
    draw,
    fund,
    new_accounts,
    reveal_votes,
    vote_round,
)
from worker.cli import main
from worker.core import build
from worker.disputes import appeal, panel
from worker.errors import Refused
from worker.index import VoteRow
from worker.settings import WorkerSettings
from worker.wallet import keys_of
from worker.web.app import create_app

PASSPHRASE = "the worker's passphrase"


@pytest.fixture
def court(accounts, usdc, system, escrow, flow, make_terms, worker):
    """A rejected job of the session's worker, disputed by it, with three fresh arbitrators staked (a panel
    may also seat the session's other stakers); (job id, dispute id)."""
    for arbitrator in new_accounts(accounts, usdc, 3):
        fund(usdc, arbitrator, ARBITRATOR_STAKE, system.arbitrator)
        system.arbitrator.stake(ARBITRATOR_STAKE, sender=arbitrator)
    jobs = Jobs(escrow, flow, make_terms, worker)
    terms, job = jobs.verdict(approve=False)
    fund(usdc, worker, 100 * USDC, escrow)
    dispute_id, _ = jobs.dispute(terms, worker)
    return "0x" + job.hex(), dispute_id


@pytest.fixture
def app_core(tmp_path, chain, system, deployer, worker):
    """The worker's app core on the session chain, the session worker's key in its keystore; (core, keys)."""
    deployments = tmp_path / "deployments.json"
    save_deployment("polygon:local", system.addresses(str(deployer.address), PARAMS), deployments)
    settings = WorkerSettings(
        home=tmp_path / "home",
        deployments_file=deployments,
        kdf_n=2**10,
        rpc_url=chain.provider.http_uri,
        desk_url=f"http://127.0.0.1:{free_port()}",  # no desk: the work page says so and shows the dispute
    )
    core = build(settings)
    keys = keys_of(Account.from_key(worker.private_key))
    core.keystore.save(keys.account, PASSPHRASE)
    return core, keys


class Signers(dict):
    """Any drawn arbitrator's test account, by address: panels may seat the session's other stakers."""

    def __init__(self, accounts, anyone) -> None:
        super().__init__({str(anyone.address): anyone})
        self._accounts = accounts

    def __missing__(self, address: str):
        return self._accounts[address]


def test_votes_appear_one_by_one_then_the_worker_appeals_the_ruling_against_it_from_the_page(
    chain, accounts, usdc, system, court, app_core, worker
):
    pool, escrow = system.arbitrator, system.escrow
    job_id, dispute_id = court
    core, keys = app_core
    seated, _ = draw(pool, chain, dispute_id, worker)
    signers = Signers(accounts, worker)
    sides = (RulingOption.REFUND_AGENT, RulingOption.PAY_WORKER, RulingOption.REFUND_AGENT)
    choices = dict(zip(seated, sides, strict=True))
    hidden = commit_votes(pool, dispute_id, signers, choices)
    first = pool.roundOf(dispute_id, 0)
    chain.mine(timestamp=first.commitEnd + 1)

    def seen():
        core.index.sync(core.chain)
        found = panel(core, core.index.job(job_id))
        assert found is not None and found.dispute_id == dispute_id
        return found

    assert (seen().phase, seen().votes, seen().revealed, seen().size) == (RoundPhase.REVEAL, (), 0, 3)
    shown = []
    for address in seated:  # each vote appears as soon as it is revealed: who, which side, when
        reveal_votes(pool, dispute_id, signers, {address: hidden[address]})
        shown.append(VoteRow(0, address, choices[address], chain.blocks.head.timestamp))
        assert seen().votes == tuple(shown)
    chain.mine(timestamp=first.revealEnd + 1)
    pool.tally(dispute_id, sender=worker)
    ruled = seen()
    cost = pool.appealCost(dispute_id)
    assert ruled.phase == RoundPhase.APPEALABLE and ruled.tallied == RulingOption.REFUND_AGENT
    assert ruled.appeal is not None and ruled.others_may_appeal_until == 0
    assert (ruled.appeal.cost, ruled.appeal.deadline, ruled.appeal.panel_size) == (
        cost, pool.roundOf(dispute_id, 0).appealEnd, 7
    )  # fmt: skip

    client = TestClient(create_app(core, follow=False), base_url="http://127.0.0.1:8780")
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/unlock").text).group(1)
    client.post("/unlock", data={"csrf": token, "passphrase": PASSPHRASE})
    page = client.get(f"/work/{job_id}").text
    assert re.findall(r'<li data-round="0" data-side="(\w+)"', page) == [c.name.lower() for c in sides]
    assert "3 of 3 votes revealed" in page and "The panel ruled: the company is refunded." in page
    price = f"{cost / USDC:.2f} USDC"
    offer = re.search(r'<p id="appeal-cost">(.*?)</p>', page).group(1)
    assert price in offer and "a new panel of 7 arbitrators" in offer and f"Appeal and pay {price}" in page
    client.cookies.set("lang", "es")
    assert f"Apelar y pagar {price}" in client.get(f"/work/{job_id}").text

    before = usdc.balanceOf(worker)
    answer = client.post(f"/work/{job_id}/appeal", data={"csrf": token}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/work/{job_id}?appealed=1"
    assert usdc.balanceOf(worker) == before - cost
    assert pool.roundOf(dispute_id, 1).panelSize == 7 and escrow.jobState(job_id)[0] == JobStatus.DISPUTED
    after = seen()  # the next round's phases, the first round's votes kept
    assert (after.round, after.phase, after.size, after.revealed) == (1, RoundPhase.DRAWING, 7, 0)
    assert after.votes == tuple(shown) and after.appeal is None and after.tallied is None
    with pytest.raises(Refused, match="has not ruled yet"):
        appeal(core, keys, job_id)


def test_a_ruling_for_the_worker_offers_no_appeal_and_says_until_when_the_company_may(
    chain, accounts, system, court, app_core, worker
):
    pool = system.arbitrator
    job_id, dispute_id = court
    core, keys = app_core
    for_worker = lambda _seat, _address: RulingOption.PAY_WORKER  # noqa: E731
    vote_round(pool, chain, dispute_id, Signers(accounts, worker), for_worker)
    core.index.sync(core.chain)
    found = panel(core, core.index.job(job_id))
    assert found.tallied == RulingOption.PAY_WORKER and found.appeal is None
    assert found.others_may_appeal_until == pool.roundOf(dispute_id, 0).appealEnd
    assert [v.choice for v in found.votes] == [RulingOption.PAY_WORKER] * 3
    with pytest.raises(Refused, match="in your favour"):
        appeal(core, keys, job_id)
    options = ["--home", str(core.settings.home), "--rpc-url", core.settings.rpc_url,
               "--deployments-file", str(core.settings.deployments_file)]  # fmt: skip
    terminal = CliRunner(mix_stderr=False).invoke(
        main, [*options, "appeal", job_id, "--yes"], env={"WORKER_PASSPHRASE": PASSPHRASE}
    )
    assert terminal.stdout.count("voted pay_worker at") == 3 and terminal.exit_code == 1
    assert terminal.stderr.strip() == "worker: the ruling is in your favour: there is nothing to appeal"
    after_appeal_window(pool, chain, dispute_id)
    assert panel(core, core.index.job(job_id)).others_may_appeal_until == 0
