"""The worker's app in a real Chromium against real processes (anvil, the desk, two oracle nodes with
the relayed flow, `worker serve`): a first day from creating a wallet to being paid, a rejection
followed by a dispute, and the bad input a worker meets on the way. One set of processes for the module;
screenshots of the main pages go to tests/worker/artifacts/ (gitignored)."""

import hashlib
import hmac
import json
import shutil
import time
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from devtools.accounts import AGENT, DEPLOYER, key_of, write_keystores
from devtools.chain import Anvil, rpc_call, wait_for
from devtools.desk import API_KEY, HELPDESK_SECRET, DeskDaemon
from devtools.protocol import Protocol
from devtools.relay import relayed_nodes
from devtools.system import USDC
from devtools.worker_app import WorkerApp
from escalation.desk.requests import EscalationRequest
from escalation.desk.sdk import DeskClient
from protocol_core.context import Message
from protocol_core.enums import JobStatus

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
        self.nodes = relayed_nodes(folder, self.anvil.url, self.deployments, ["op3", "op4"], takeover_delay=0.5)
        self.desk = DeskDaemon(folder, self.anvil.url, self.deployments, key_of(AGENT), poll=0.2)
        self.app = WorkerApp(folder, self.anvil.url, self.deployments, "", [n.intake_url for n in self.nodes],
                             content_folder=folder / "blobs", evidence_folder=folder / "evidence")  # fmt: skip
        for node in self.nodes:
            node.start()
        self.desk.start()
        self.app.env["WORKER_DESK_URL"] = self.desk.url
        self.app.start()
        self.client = DeskClient(self.desk.url, API_KEY)

    def stop(self) -> None:
        for daemon in (self.app, self.desk, *self.nodes):
            daemon.stop()
        self.anvil.kill()

    def escalate(self, **over) -> str:
        """The desk posts a ticket for an English-speaking billing worker; its job id once open."""
        fields = dict(
            ticket_ref="T-" + str(time.time_ns())[-8:], language="en", issue="Charged twice this month",
            conversation=(Message(role="customer", text="Charged twice! Write to jane@example.com", ts=1),
                          Message(role="agent", text="I see two charges of 49 USD.", ts=2)),
            acceptance_criteria=("The duplicate charge is refunded",), reward=20 * USDC, expertise=0b1,
        )  # fmt: skip
        fields.update(over)
        view = self.client.escalate(EscalationRequest.model_validate(fields))
        view = wait_for(lambda: _open(self.client, view.desk_id), WAIT, "the job posted")
        return str(view.job_id)

    def confirm(self, job_id: str, outcome: str = "resolved") -> None:
        """The helpdesk's webhook: the customer says whether the ticket is resolved."""
        ticket = self.client.status(job_id).ticket_ref
        body = json.dumps({"ticket_ref": ticket, "outcome": outcome, "confirmed_at": int(time.time())}).encode()
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
    page.check("input[name=expertise][value=billing]")
    page.click("#profile button[type=submit]")
    assert "sent=profile" in page.url
    until_text(page, "#state", "Registered")
    assert world.protocol.w3.eth.get_balance(address) == 0  # registered by a relayed signature
    shot(page, "03-profile")

    job_id = world.escalate()
    page.goto(world.app.url + "/jobs")
    card = page.locator(f"#offers li[data-job='{job_id}']")
    card.wait_for()  # appears by itself: the list polls
    assert "20.00 USDC" in card.inner_text()
    shot(page, "04-jobs")
    card.locator("button").click()
    assert page.url.startswith(f"{world.app.url}/work/{job_id}")
    until_text(page, "#transcript", "Charged twice!")
    assert page.locator("#transcript mark.redacted").first.inner_text() == "[EMAIL]"
    assert "jane@example.com" not in page.content()
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


def test_rejection_says_why_then_dispute_with_the_cost_first(world, page):
    address = page.inner_text("#my-address") if "/profile" in page.url else _address(world)
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
    shot(page, "09-disputed")


def _address(world) -> str:
    return "0x" + json.loads((world.app.workdir / "worker-home" / "keystore.json").read_text())["address"]
