"""Peers found from the chain: the endpoints operators publish, followed as they change, on the session's
deployment; configured peers override them."""

import logging

import pytest

from oracle_node.operators import STAKE_TTL, OperatorSet
from oracle_node.peers import Peers, usable
from oracle_node.relay_contracts import RelayReads
from runtime.chain import Chain


class Clock:
    """A monotonic clock the test moves: the operator set re-reads the chain once STAKE_TTL has passed."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def tick(self) -> None:
        self.now += STAKE_TTL + 0.1


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def operator_set(chain, system, clock):
    reads = RelayReads(Chain.over_http(chain.provider.uri), system.escrow.address, system.oracle.address)
    return OperatorSet(reads, 0, clock=clock)


def _peers(operator_set, me, configured=()) -> Peers:
    peers = Peers(list(configured), operator_set, str(me.address), timeout=1.0)
    peers.start()
    return peers


def test_peers_are_the_endpoints_the_other_operators_publish(oracle, operators, operator_set, clock):
    me, two, three = operators
    peers = _peers(operator_set, me)
    assert peers.from_chain and peers.urls() == []

    oracle.setEndpoint("https://me.example:8700", sender=me)
    oracle.setEndpoint("http://127.0.0.1:8702/", sender=two)
    oracle.setEndpoint("https://three.example", sender=three)
    assert peers.urls() == []  # read at most every STAKE_TTL seconds
    clock.tick()

    by_operator = sorted(
        [(str(two.address), "http://127.0.0.1:8702"), (str(three.address), "https://three.example")]
    )
    assert peers.urls() == [url for _, url in by_operator]  # ours is not a peer; trailing slash dropped
    assert sorted(outbox.url for outbox in peers.outboxes()) == sorted(url for _, url in by_operator)
    peers.close()


def test_peers_follow_a_new_endpoint_a_withdrawn_one_and_a_removed_operator(
    oracle, deployer, operators, operator_set, clock
):
    me, two, three = operators
    oracle.setEndpoint("http://two.example:1", sender=two)
    oracle.setEndpoint("http://three.example:1", sender=three)
    peers = _peers(operator_set, me)
    first = {outbox.url: outbox for outbox in peers.outboxes()}
    assert set(first) == {"http://two.example:1", "http://three.example:1"}

    oracle.setEndpoint("http://two.example:2", sender=two)  # moved
    oracle.setEndpoint("", sender=three)  # withdrawn
    clock.tick()
    assert [outbox.url for outbox in peers.outboxes()] == ["http://two.example:2"]
    for outbox in first.values():  # the old outboxes' threads end
        outbox._thread.join(timeout=5)
        assert not outbox._thread.is_alive()

    oracle.setEndpoint("http://three.example:3", sender=three)
    oracle.removeOperator(two, sender=deployer)  # out of the set: no longer sent our signatures
    clock.tick()
    assert peers.urls() == ["http://three.example:3"]
    peers.close()


def test_an_unusable_endpoint_is_skipped_with_one_warning(oracle, operators, operator_set, clock, caplog):
    me, two, three = operators
    oracle.setEndpoint("ftp://two.example", sender=two)
    oracle.setEndpoint("https://three.example?key=1", sender=three)
    peers = _peers(operator_set, me)
    with caplog.at_level(logging.WARNING, logger="oracle_node.peers"):
        for _ in range(3):
            assert peers.urls() == []
    warnings = [r.getMessage() for r in caplog.records if "published an endpoint" in r.getMessage()]
    assert len(warnings) == 2 and "ftp://two.example" in "".join(warnings)
    peers.close()


def test_configured_peers_override_the_chain(oracle, operators, operator_set, clock):
    me, two, _three = operators
    oracle.setEndpoint("http://two.example:1", sender=two)
    clock.tick()
    peers = _peers(operator_set, me, configured=["http://10.0.0.9:8700/", "not a url"])
    assert not peers.from_chain
    assert peers.urls() == ["http://10.0.0.9:8700"]
    peers.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://op.example:8700/", "https://op.example:8700"),
        ("http://10.0.0.1:1/relay", "http://10.0.0.1:1/relay"),
        ("op.example:8700", None),
        ("https://", None),
        ("https://op.example:port", None),
        ("javascript:alert(1)", None),
    ],
)
def test_usable_takes_http_urls_with_a_host_only(url, expected):
    assert usable(url) == expected
