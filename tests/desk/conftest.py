"""Fixtures of the desk tests: a desk on the session's chain with an agent key of its own, its state in a
fresh SQLite file (or the session's PostgreSQL), its blobs in a folder."""

import os

import pytest
from eth_account import Account
from nacl.public import PrivateKey

from devtools.chain import wait_for
from devtools.system import USDC
from escalation.desk.desk import DeskConfig
from escalation.desk.policy import SpendPolicy
from escalation.desk.requests import EscalationRequest
from escalation.desk.wiring import build
from escalation.redact import KINDS
from protocol_core.content import ContentClient, FolderStore
from protocol_core.context import Message

POLICY = SpendPolicy(max_reward=100 * USDC, daily_budget=500 * USDC, approval_threshold=50 * USDC)
SECRET = "callback-secret"
# tickets for the decision door: a data-deletion request with a legal threat, and a routine question
GDPR = {
    "id": "T-GDPR", "language": "en", "agent_confidence": 0.95,
    "messages": [{"role": "customer", "ts": 1, "text": "Under GDPR I request that you delete all personal "
                  "data you hold about me. My lawyer will follow up if this is ignored."}],
}  # fmt: skip
ROUTINE = {
    "id": "T-PWD", "language": "en", "agent_confidence": 0.93,
    "messages": [{"role": "customer", "ts": 1, "text": "Hi, I forgot my password and the reset email never "
                  "shows up in my inbox. Can you help?"}],
    "proposed_reply": "Here is how to do it: open Settings, then Account, and follow the steps.",
}  # fmt: skip


def follow(service, desk_id: str, status: str) -> None:
    """Runs the desk's passes until the job is in `status`: anvil may answer a send before it mines it."""
    wait_for(lambda: service.follower.run_once() >= 0 and service.desk.view(desk_id).status == status,
             timeout=20, what=f"{desk_id} to be {status}")  # fmt: skip


def request(**over) -> EscalationRequest:
    """A ticket with personal data in it, asking for an English-speaking worker with expertise bit 0."""
    fields = dict(
        ticket_ref="T-" + os.urandom(4).hex(), language="en", issue="Double charge; card 4111 1111 1111 1111",
        conversation=(Message(role="customer", text="Charged twice! Mail me at jane@example.com", ts=1),
                      Message(role="agent", text="I see two charges of 49 USD.", ts=2)),
        customer={"plan": "pro"}, acceptance_criteria=("The duplicate charge is refunded",),
        reward=20 * USDC, expertise=0b1,
    )  # fmt: skip
    fields.update(over)
    return EscalationRequest.model_validate(fields)


@pytest.fixture
def rpc_url(chain):
    return chain.provider.http_uri


@pytest.fixture
def desk_agent(chain, system, deployer):
    """A fresh agent key with gas money and 1,000 test USDC, and no allowance: posts need the permit."""
    account = Account.create()
    chain.provider.set_balance(account.address, 10**20)
    system.token.mint(account.address, 1_000 * USDC, sender=deployer)
    return account


@pytest.fixture
def addresses(system, deployer):
    from devtools.system import PARAMS

    return system.addresses(str(deployer.address), PARAMS)


@pytest.fixture
def make_desk(tmp_path, rpc_url, addresses, desk_agent):
    def make(database_url=None, policy=POLICY, agent=None, url=None, wiring=None, **config):
        return build(
            rpc_url=url or rpc_url, database_url=database_url or f"sqlite:///{tmp_path}/desk.db",
            addresses=addresses, agent=agent or desk_agent,
            config=DeskConfig(policy=policy, redact_kinds=KINDS, **config),
            store=ContentClient(folder=FolderStore(tmp_path / "blobs")), callback_secret=SECRET,
            **(wiring or {}),
        )  # fmt: skip

    return make


@pytest.fixture
def sealed_worker(system, stranger):
    """A worker (the session's stranger) registered with a real X25519 key; returns (account, key)."""
    key = PrivateKey.generate()
    system.registry.register(0b1, 0b1, 5, bytes(key.public_key), "ipfs://w", sender=stranger)
    return stranger, key
