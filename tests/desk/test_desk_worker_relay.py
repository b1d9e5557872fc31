"""The relayed registrations and availability changes the desk pays for, on a real server on 127.0.0.1:
within its limits per worker and in total they are sent; past them the answer is a 429 that says when to
retry (Retry-After), nothing is sent, and the window slides."""

import httpx
import pytest
from eth_account import Account
from nacl.public import PrivateKey

from devtools.chain import wait_for
from escalation.desk.api import desk_app
from escalation.desk.relay_limit import RelayLimits
from escalation.desk.serving import ServerThread
from protocol_core.handoff import compact_hex
from protocol_core.relayed import sign_availability, sign_registration

WINDOW = 3_600.0


class Clock:
    """The gate's clock, moved by the test (the chain's clock is not involved)."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def relay(make_desk):
    """A desk that pays for one relayed call per worker and two in total per hour: (url, service, clock)."""
    clock = Clock()
    limits = RelayLimits(per_worker=1, total=2, window_s=WINDOW)
    service = make_desk(wiring={"relay_limits": limits, "clock": clock})
    server = ServerThread(desk_app(service, "relay-key", "hook")).start()
    yield server.url, service, clock
    server.stop()


def registration(chain, registry, account) -> dict:
    """`account`'s signed profile, as the worker's app sends it."""
    signed = sign_registration(
        account.key, chain_id=chain.chain_id, registry=str(registry.address), worker=account.address,
        languages=0b1, expertise=0b1, max_concurrent=2,
        encryption_key=bytes(PrivateKey.generate().public_key), profile_uri="ipfs://w",
        nonce=registry.nonces(account.address), deadline=chain.pending_timestamp + 600,
    )  # fmt: skip
    return {
        "worker": signed.worker, "languages": 1, "expertise": 1, "max_concurrent": 2,
        "encryption_key": "0x" + signed.encryption_key.hex(), "profile_uri": "ipfs://w",
        "deadline": signed.deadline, "signature": compact_hex(signed.signature),
    }  # fmt: skip


def availability(chain, registry, account, available: bool) -> dict:
    """`account`'s signed availability switch."""
    deadline = chain.pending_timestamp + 600
    signature = sign_availability(
        account.key, chain_id=chain.chain_id, registry=str(registry.address), worker=account.address,
        available=available, nonce=registry.nonces(account.address), deadline=deadline,
    )  # fmt: skip
    return {"worker": account.address, "available": available, "deadline": deadline,
            "signature": compact_hex(signature)}  # fmt: skip


def test_relays_past_the_limits_are_refused_with_when_to_retry(relay, chain, system):
    url, service, clock = relay
    registry = system.registry
    first, second, third = Account.create(), Account.create(), Account.create()

    sent = httpx.post(f"{url}/v1/worker/registrations", json=registration(chain, registry, first))
    assert sent.status_code == 200 and sent.json() == {"worker": first.address, "status": "sent"}
    wait_for(lambda: registry.profile(first.address).maxConcurrent == 2, timeout=20, what="registered")

    # the same worker again, a minute later: its one call of the hour is used
    clock.now += 60
    sent_before = chain.provider.web3.eth.get_transaction_count(service.desk.agent.address)
    refused = httpx.post(f"{url}/v1/worker/availability", json=availability(chain, registry, first, False))
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(int(WINDOW - 60))
    assert f"try again in {int(WINDOW - 60)} s" in refused.json()["detail"]
    assert chain.provider.web3.eth.get_transaction_count(service.desk.agent.address) == sent_before
    assert registry.profile(first.address).available  # nothing was sent

    # another worker takes the second call of the hour; a third finds the desk's total used
    assert httpx.post(f"{url}/v1/worker/registrations", json=registration(chain, registry, second)).is_success
    clock.now += 600
    over = httpx.post(f"{url}/v1/worker/registrations", json=registration(chain, registry, third))
    assert over.status_code == 429 and "the desk has relayed 2 calls" in over.json()["detail"]
    assert over.headers["Retry-After"] == str(int(WINDOW - 660))
    assert registry.profile(third.address).maxConcurrent == 0

    # once the first call has left the window, the first worker's change goes through
    clock.now += WINDOW - 660 + 1
    again = httpx.post(f"{url}/v1/worker/availability", json=availability(chain, registry, first, False))
    assert again.status_code == 200
    wait_for(lambda: not registry.profile(first.address).available, timeout=20, what="unavailable")
