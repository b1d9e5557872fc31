"""The worker's app in a real Chromium against real processes (anvil, the desk offering jobs from the
indexer's read model, two oracle nodes with the relayed flow, `worker serve`): a first day from creating
a wallet to an offer taken from its card and paid, a rejection followed by a dispute, and the bad input
a worker meets on the way. One set of processes for the module (the indexer's passes run on a thread of
this one); screenshots of the main pages go to tests/worker/artifacts/ (gitignored)."""

import hashlib
import hmac
import json
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from web3 import Web3

from devtools.accounts import AGENT, DEPLOYER, WORKERS, key_of, write_keystores
from devtools.chain import Anvil, free_port, rpc_call, wait_for
from devtools.daemons import program
from devtools.desk import API_KEY, HELPDESK_SECRET, DeskDaemon
from devtools.indexer import IndexerThread
from devtools.protocol import Protocol
from devtools.relay import relayed_nodes
from devtools.system import USDC
from devtools.worker_app import WorkerApp
from escalation.desk.requests import EscalationRequest
from escalation.desk.sdk import DeskClient
from protocol_core.content import read_headers, worker_headers
from protocol_core.context import DocLink, Message
from protocol_core.enums import JobStatus
from protocol_core.terms import JobTerms
from worker.wallet import keys_of

ARTIFACTS = Path(__file__).with_name("artifacts")
PASSPHRASE = "a long passphrase of mine"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
WAIT = 60.0


class World:
    """The module's processes and the drivers the tests use."""

    def __init__(self, folder: Path, deployed_state) -> None:
        shutil.copy(deployed_state.state, folder / "anvil-state.json")
        self.deployments = deployed_state.deployments
        self.anvil = Anvil(folder)
        self.anvil.start()
        self.protocol = Protocol.connect(self.anvil.url, deployed_state.addresses, folder / "evidence")
        write_keystores(folder / "ape", operators=(3, 4))
        self.nodes = relayed_nodes(
            folder, self.anvil.url, self.deployments, ["op3", "op4"], takeover_delay=0.5
        )
        self.indexer = IndexerThread(folder, self.anvil.url, deployed_state.addresses).start()
        self.desk = DeskDaemon(folder, self.anvil.url, self.deployments, key_of(AGENT), poll=0.2,
                               indexer_database_url=self.indexer.url, offer_timeout_s=600)  # fmt: skip
        self.app = WorkerApp(
            folder,
            self.anvil.url,
            self.deployments,
            "",
            [n.intake_url for n in self.nodes],
            content_folder=folder / "blobs",
            evidence_folder=folder / "evidence",
        )
        for node in self.nodes:
            node.start()
        self.desk.start()
        self.app.env["WORKER_DESK_URL"] = self.desk.url
        self.app.start()
        self.client = DeskClient(self.desk.url, API_KEY)

    def stop(self) -> None:
        for daemon in (self.app, self.desk, *self.nodes):
            daemon.stop()
        self.indexer.stop()
        self.anvil.kill()

    def escalate(self, **over) -> str:
        """The desk posts a ticket for an English-speaking billing worker; its job id once open."""
        fields = dict(
            ticket_ref="T-" + str(time.time_ns())[-8:], language="en", issue="Charged twice this month",
            conversation=(Message(role="customer", text="Charged twice! Write to jane@example.com", ts=1),
                          Message(role="agent", text="I see two charges of 49 USD.", ts=2)),
            acceptance_criteria=("The duplicate charge is refunded",), reward=20 * USDC, expertise=0b1,
            docs=(DocLink(title="Refund policy", url="https://intranet.example/refunds"),),
        )  # fmt: skip
        fields.update(over)
        view = self.client.escalate(EscalationRequest.model_validate(fields))
        view = wait_for(lambda: _open(self.client, view.desk_id), WAIT, "the job posted")
        return str(view.job_id)

    def confirm(self, job_id: str, outcome: str = "resolved") -> None:
        """The helpdesk's webhook, once the desk saw the job accepted: resolved or not, says the customer."""
        accepted = lambda: self.client.status(job_id).status == "accepted"  # noqa: E731
        wait_for(accepted, WAIT, "the desk to see the job accepted")
        ticket = self.client.status(job_id).ticket_ref
        body = json.dumps(
            {"ticket_ref": ticket, "outcome": outcome, "confirmed_at": int(time.time())}
        ).encode()
        signature = hmac.new(HELPDESK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        answer = httpx.post(f"{self.desk.url}/v1/helpdesk/confirm", content=body,
                            headers={"X-Helpdesk-Signature": signature})  # fmt: skip
        assert answer.status_code == 200, answer.text


def _open(client: DeskClient, desk_id: str):
    view = client.status(desk_id)
    return view if view.status == "open" else None


@pytest.fixture(scope="module")
def world(tmp_path_factory, deployed_state):
    started = World(tmp_path_factory.mktemp("worker-app"), deployed_state)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def page(world):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        context = browser_context(p, world.app.workdir / "chromium-profile")
        yield context.pages[0] if context.pages else context.new_page()
        context.close()


def browser_context(playwright, profile: Path):
    """Debian's Chromium with a fresh profile (its --user-data-dir), phone-sized, never Playwright's own."""
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=FLAGS, headless=True,
        viewport={"width": 390, "height": 844}, locale="en-US",
    )  # fmt: skip
    context.set_default_timeout(WAIT * 1000)
    return context


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def until_text(page, selector: str, text: str) -> None:
    """Reloads until `selector` shows `text`: the pages re-read the chain and the desk on each load."""

    def shown() -> bool:
        page.reload()
        found = page.locator(selector)
        return found.count() > 0 and text in found.first.inner_text()

    wait_for(shown, WAIT, f"{text!r} in {selector}")


def test_first_day_from_wallet_to_paid(world, page):
    page.goto(world.app.url + "/")
    assert page.url.endswith("/wallet/new")
    shot(page, "01-welcome")
    page.fill("#passphrase", PASSPHRASE)
    page.fill("#repeat", PASSPHRASE)
    page.click("#create button")
    words = page.locator("#phrase li").all_inner_texts()
    assert len(words) == 12
    shot(page, "02-recovery-phrase")
    positions = [int(page.get_attribute(f"#word{i}", "data-position")) for i in (1, 2)]
    page.reload()  # shown once: a reload shows only the confirmation
    assert page.locator("#phrase").count() == 0
    page.fill("#word1", words[positions[0] - 1])
    page.fill("#word2", words[positions[1] - 1])
    page.click("#confirm button")
    assert page.url.endswith("/profile")
    address = page.inner_text("#my-address")
    assert Account.from_mnemonic(" ".join(words)).address == address
    keystore = json.loads((world.app.workdir / "worker-home" / "keystore.json").read_text())
    assert keystore["address"].lower() == address[2:].lower() and "crypto" in keystore
    assert " ".join(words) not in world.app.log() and PASSPHRASE not in world.app.log()

    page.check("input[name=languages][value=en]")
    page.check("input[name=languages][value=es]")
    page.check("input[name=expertise][value=billing]")
    page.click("#profile button[type=submit]")
    assert "sent=profile" in page.url
    until_text(page, "#state", "Registered")
    assert world.protocol.w3.eth.get_balance(address) == 0  # registered by a relayed signature
    shot(page, "03-profile")

    # A Spanish ticket: of the registered workers only this one speaks Spanish, so the desk offers it here.
    page.goto(world.app.url + "/jobs")
    job_id = world.escalate(language="es")
    card = page.locator(f"#offers li.offered[data-job='{job_id}']")
    card.wait_for()  # appears by itself, marked as offered: the list polls the desk's offers
    assert "Offered to you" in card.inner_text() and "20.00 USDC" in card.inner_text()
    assert page.locator("#offers li.card").first.get_attribute("data-job") == job_id  # offers come first
    shot(page, "04-jobs")
    card.locator("button").click()
    assert page.url.startswith(f"{world.app.url}/work/{job_id}")
    until_text(page, "#transcript", "Charged twice!")
    assert page.locator("#transcript mark.redacted").first.inner_text() == "[EMAIL]"
    assert "jane@example.com" not in page.content()
    assert page.get_attribute("#docs a", "href") == "https://intranet.example/refunds"
    shot(page, "05-work-ticket")

    page.fill("#summary", "Refunded the duplicate charge of 49 USD.")
    page.click("button[value=draft]")
    assert page.input_value("#summary") == "Refunded the duplicate charge of 49 USD."
    world.confirm(job_id)
    until_text(page, "#confirmation-state", "confirmed the ticket")
    page.click("#submit")
    page.locator("#outcome[data-outcome=paid]").wait_for()  # progress polls until paid
    shot(page, "06-paid")
    assert world.protocol.contracts["TestUSDC"].functions.balanceOf(address).call() == 20 * USDC
    assert world.protocol.w3.eth.get_balance(address) == 0  # never a transaction of its own
    page.goto(world.app.url + "/money")
    assert page.inner_text("#total") == "20.00 USDC" and page.inner_text("#balance") == "20.00 USDC"
    assert job_id[:10] in page.inner_text("#earnings")
    shot(page, "07-money")
    page.select_option("#lang-pick", "es")
    page.click("header form[action='/lang'] button")
    assert page.inner_text("h1") == "Dinero" and page.inner_text("#total") == "20.00 USDC"
    shot(page, "07-money-es")
    page.select_option("#lang-pick", "en")
    page.click("header form[action='/lang'] button")
    assert page.inner_text("h1") == "Money"


def test_rejection_says_why_then_dispute_with_the_cost_first(world, page):
    address = _address(world)
    job_id = world.escalate(challenge_window_s=3_600, reward=10 * USDC)
    page.goto(world.app.url + "/jobs")
    page.locator(f"#offers li[data-job='{job_id}'] button").click()
    world.confirm(job_id, outcome="unresolved")
    until_text(page, "#confirmation-state", "confirmed the ticket")
    page.fill("#summary", "Walked the customer through the refund form.")
    page.click("#submit")
    page.locator("#outcome[data-outcome=rejected]").wait_for()
    assert "The customer said the problem is not resolved." in page.inner_text("#reason")
    cost = page.inner_text("#dispute-cost")
    fee, bond = world.protocol.contracts["JobEscrow"].functions.disputeCost(10 * USDC).call()
    assert f"{(fee + bond) / USDC:.2f} USDC" in cost
    shot(page, "08-rejected")

    # A dispute is the worker's own transaction: gas and the fee and bond come from its wallet.
    rpc_call(world.anvil.url, "anvil_setBalance", address, hex(10**18))
    world.protocol.send("TestUSDC", "mint", address, fee + bond, sender=DEPLOYER)
    page.fill("#statement", "The customer confirmed by phone; the refund went out on day one.")
    page.click("#dispute")
    page.locator("#dispute-view").wait_for()
    assert world.protocol.contracts["JobEscrow"].functions.jobState(job_id).call()[0] == JobStatus.DISPUTED
    assert "Dispute #" in page.inner_text("#dispute-view")
    assert "0 of 3 votes revealed" in page.inner_text("#panel-round")  # the first panel, being drawn
    assert page.locator("#no-votes").count() == 1 and page.locator("#appeal").count() == 0
    shot(page, "09-disputed")


def test_pay_the_token_refused_waits_as_credit_and_goes_to_another_address(world, page):
    address, elsewhere = _address(world), Account.create().address
    token = world.protocol.contracts["TestUSDC"]
    world.protocol.send("TestUSDC", "setBlacklisted", address, True, sender=DEPLOYER)
    job_id = world.escalate(reward=7 * USDC)
    page.goto(world.app.url + "/jobs")
    page.locator(f"#offers li[data-job='{job_id}'] button").click()
    world.confirm(job_id)
    until_text(page, "#confirmation-state", "confirmed the ticket")
    page.fill("#summary", "Refunded.")
    page.click("#submit")
    page.locator("#outcome[data-outcome=paid]").wait_for()
    page.goto(world.app.url + "/money")
    assert page.inner_text("#credit") == "7.00 USDC"
    shot(page, "10-credit")
    page.fill("#to", "not an address")
    page.click("#withdraw button")
    assert "is not an address" in page.inner_text("#error") and page.inner_text("#credit") == "7.00 USDC"
    # A withdrawal is the worker's own transaction (not relayed): gas comes from its wallet.
    rpc_call(world.anvil.url, "anvil_setBalance", address, hex(10**18))
    page.fill("#to", elsewhere)
    page.click("#withdraw button")
    page.wait_for_url("**/money?done=withdrawn")
    assert page.locator("#credit").inner_text() == "0.00 USDC"
    assert token.functions.balanceOf(elsewhere).call() == 7 * USDC
    world.protocol.send("TestUSDC", "setBlacklisted", address, False, sender=DEPLOYER)


def _address(world) -> str:
    keystore = json.loads((world.app.workdir / "worker-home" / "keystore.json").read_text())
    return Web3.to_checksum_address(keystore["address"])


def cli(world, home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`worker <args>` as a person at a terminal would run it, with its own home."""
    env = {**world.app.env, "WORKER_HOME": str(home), "WORKER_PASSPHRASE": PASSPHRASE}
    return subprocess.run([program("worker"), *args], env=env, input=stdin, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def test_cli_does_the_same_first_day(world, tmp_path):
    account = Account.create()
    imported = cli(world, tmp_path, "wallet", "import", stdin=account.key.hex() + "\n")
    assert imported.returncode == 0 and account.address in imported.stdout, imported.stderr
    registered = cli(world, tmp_path, "register", "--language", "en", "--expertise", "billing")
    assert registered.returncode == 0, registered.stderr
    registry = world.protocol.contracts["WorkerRegistry"]
    wait_for(
        lambda: registry.functions.profile(account.address).call()[3] > 0, WAIT, "the relayed registration"
    )
    job_id = world.escalate(reward=5 * USDC)
    listed = [json.loads(line) for line in cli(world, tmp_path, "jobs", "--json").stdout.splitlines()]
    assert {"job_id": job_id, "reward": "5.00", "offered": False} in [
        {k: v for k, v in row.items() if k != "accept_by"} for row in listed
    ]
    assert cli(world, tmp_path, "accept", job_id).returncode == 0
    sealed = lambda: any(s.reader == account.address for s in world.client.status(job_id).seals)  # noqa: E731
    wait_for(sealed, WAIT, "the context sealed to the worker")
    opened = cli(world, tmp_path, "context", job_id)
    assert "Charged twice! Write to [EMAIL]" in opened.stdout
    world.confirm(job_id)
    submitted = cli(world, tmp_path, "submit", job_id, "--summary", "Refunded the duplicate charge.")
    assert submitted.stdout.strip() == "evidence handed to 2 of 2 oracle nodes", submitted.stderr
    escrow = world.protocol.contracts["JobEscrow"]
    wait_for(lambda: escrow.functions.jobState(job_id).call()[0] == JobStatus.PAID, WAIT, "the payout")
    assert cli(world, tmp_path, "status", job_id).stdout.strip() == f"{job_id} paid: paid"
    assert (
        "total 5.00 USDC, balance 5.00 USDC, to withdraw 0.00 USDC" in cli(world, tmp_path, "earnings").stdout
    )
    env = {**world.app.env, "WORKER_HOME": str(tmp_path), "WORKER_PASSPHRASE": "not it"}
    wrong = subprocess.run([program("worker"), "jobs"], capture_output=True, text=True, timeout=60, env=env)
    assert (
        wrong.returncode == 1
        and wrong.stderr.strip() == "worker: that passphrase does not open this wallet; try again"
    )


def post_form(page, path: str):
    """Submits a form as the page would (its session cookie and CSRF token), for a page that changed since."""
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    return page.request.post(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2] + path,
                             form={"csrf": token})  # fmt: skip


def test_bad_input_is_said_plainly_and_nothing_is_lost(world, page, tmp_path):
    # Wrong passphrase: refused, and the right one still opens the wallet.
    page.goto(world.app.url + "/jobs")
    page.click("header form[action='/lock'] button")
    page.fill("#passphrase", "not my passphrase")
    page.click("#unlock button")
    assert "that passphrase does not open this wallet" in page.inner_text("#error")
    page.fill("#passphrase", PASSPHRASE)
    page.click("#unlock button")
    assert page.url.endswith("/jobs")

    # A tampered context is refused with what it is, never shown.
    address = _address(world)
    blob = _sealed_blob(world, address)
    paid_job = world.protocol.contracts["JobEscrow"].events.JobAccepted.get_logs(
        from_block=0, argument_filters={"worker": address})[0]["args"]["jobId"]  # fmt: skip
    original = blob.read_bytes()
    blob.write_bytes(original.replace(b'"kind":"context"', b'"kind":"context" '))
    page.goto(f"{world.app.url}/work/0x{paid_job.hex()}")
    assert "was not shown" in page.inner_text("#context-error") and page.locator("#transcript").count() == 0
    blob.write_bytes(original)

    # The desk answers about a job only its worker, and only with a valid proof; offers likewise.
    stranger = keys_of(Account.create())
    door = f"{world.desk.url}/v1/jobs/0x{paid_job.hex()}/handoff"
    assert httpx.get(door).status_code == 401
    assert httpx.get(door, headers=worker_headers(stranger.account, "0x" + paid_job.hex())).status_code == 403
    offers = f"{world.desk.url}/v1/worker/offers/{address.lower()}"
    assert httpx.get(offers, headers=read_headers(stranger.account, address.lower())).status_code == 403

    # Submitting before the customer confirmed: refused, and the summary is kept.
    job_id = world.escalate(reward=3 * USDC)
    page.goto(world.app.url + "/jobs")
    page.locator(f"#offers li[data-job='{job_id}'] button").click()
    page.fill("#summary", "Issued the refund; waiting for the customer.")
    page.click("#submit")
    assert "the customer has not confirmed yet" in page.inner_text("#error")
    page.goto(f"{world.app.url}/work/{job_id}")
    assert page.input_value("#summary") == "Issued the refund; waiting for the customer."

    # A job someone else took first, and one whose accept-by passed.
    taken = world.escalate(reward=2 * USDC)
    late = world.escalate(reward=2 * USDC, accept_within_s=60)
    page.goto(world.app.url + "/jobs")
    page.locator(f"#offers li[data-job='{taken}']").wait_for()
    world.protocol.send("JobEscrow", "acceptJob", _terms(world, taken).as_abi(), sender=WORKERS[0])
    answer = post_form(page, f"/jobs/{taken}/accept")
    assert answer.status == 409 and "someone else took this job first" in answer.text()
    rpc_call(world.anvil.url, "evm_increaseTime", 120)
    rpc_call(world.anvil.url, "evm_mine")
    answer = post_form(page, f"/jobs/{late}/accept")
    assert answer.status == 409 and "that has passed" in answer.text()

    # The chain unreachable: the page says so; the wallet made meanwhile is kept.
    offline = WorkerApp(tmp_path, f"http://127.0.0.1:{free_port()}", world.deployments, world.desk.url, [])
    offline.start()
    try:
        page.goto(offline.url + "/wallet/new")
        until_text(page, "#chain-down", "cannot be reached")
        page.fill("#secret", Account.create().key.hex())
        page.fill("#ipassphrase", PASSPHRASE)
        page.fill("#irepeat", PASSPHRASE)
        page.click("#import button")
        assert "nothing was sent and nothing was lost" in page.inner_text("#error")
        assert (tmp_path / "worker-home" / "keystore.json").exists()
        shot(page, "11-chain-down")
    finally:
        offline.stop()

    # The desk unreachable: the jobs page says so and still lists the jobs; accepting is refused.
    open_job = world.escalate(reward=4 * USDC)
    world.desk.stop()
    page.goto(world.app.url + "/jobs")
    until_text(page, "#desk-down", "cannot be reached")
    assert page.locator(f"#offers li[data-job='{open_job}']").count() == 1
    shot(page, "12-desk-down")
    answer = post_form(page, f"/jobs/{open_job}/accept")
    assert answer.status == 503 and "nothing was lost" in answer.text()


def _sealed_blob(world, worker: str) -> Path:
    with sqlite3.connect(world.desk.database_url.removeprefix("sqlite:///")) as db:
        (blob,) = db.execute(
            "SELECT blob FROM desk_seals WHERE reader = ? ORDER BY id LIMIT 1", (worker,)
        ).fetchone()
    return world.app.workdir / "blobs" / blob


def _terms(world, job_id: str) -> JobTerms:
    """The job's terms as the app's index read them from its JobPosted log."""
    with sqlite3.connect(world.app.workdir / "worker-home" / "index.db") as db:
        (terms,) = db.execute("SELECT terms FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
    return JobTerms.model_validate_json(terms)
