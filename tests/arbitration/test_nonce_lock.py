"""The CLI and the daemon on one key and one database (SQLite or PostgreSQL) never sign the same nonce:
each send takes the database's send lock and continues after the last nonce persisted, whoever wrote it."""

import threading
import time

import pytest
from eth_account import Account
from sqlalchemy import select
from web3 import Web3

from arbitration.nonce_lock import LockedSender
from runtime.chain import Chain
from runtime.db import connect
from runtime.metrics import RuntimeMetrics
from runtime.sender import Call, Sender
from runtime.tables import transactions
from tests.runtime.runtime_harness import Emitter
from tests.runtime.test_runtime_sender import FEES, SCHEMA, anvil, claim  # noqa: F401  (module anvil)


def _processes(url: str, database_url: str, sender_class: type[Sender]) -> tuple[list[Sender], Emitter, Web3]:
    """Two senders of one fresh key, each with its own engine, as `arbitrator watch` and a CLI run are."""
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
    key = Account.create()
    funding = {"from": w3.eth.accounts[0], "to": key.address, "value": 10**18}
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(funding), timeout=30)
    chain = Chain.over_http(url)
    senders = []
    for _ in range(2):
        sender = sender_class(chain, connect(database_url, SCHEMA), key, RuntimeMetrics("test"), FEES)
        sender.start(chain.chain_id())
        senders.append(sender)
    return senders, Emitter.deploy(w3, w3.eth.accounts[0]), w3


def _send(sender: Sender, emitter: Emitter, purpose: str) -> list:
    call = Call(emitter.address, emitter.call_data(purpose, 1), 60_000, purpose, time.time())
    return sender.send([call], 0, claim)


def _nonces(database_url: str) -> list[int]:
    with connect(database_url, SCHEMA).connect() as db:
        return [row.nonce for row in db.execute(select(transactions).order_by(transactions.c.nonce))]


def _persisted_not_broadcast(sender: Sender, emitter: Emitter, w3: Web3, purpose: str) -> int:
    """The daemon's send is on disk but not yet in any mempool (the moment between the two)."""
    (sent,) = _send(sender, emitter, purpose)
    w3.provider.make_request("anvil_dropAllTransactions", [])
    return sent.nonce


@pytest.mark.parametrize("sender_class", [Sender, LockedSender])
def test_second_process_never_reuses_a_persisted_nonce(anvil, tmp_path, sender_class):  # noqa: F811
    database_url = f"sqlite:///{tmp_path}/arbitrator.db"
    (daemon, cli), emitter, w3 = _processes(anvil.url, database_url, sender_class)  # both start at 0
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        assert _persisted_not_broadcast(daemon, emitter, w3, "daemon") == 0
        if sender_class is Sender:  # the runtime's sender alone: the failure the lock exists for
            with pytest.raises(Exception, match="UNIQUE"):
                _send(cli, emitter, "cli")
            return
        assert [s.nonce for s in _send(cli, emitter, "cli")] == [1]
        daemon.start(Chain.over_http(anvil.url).chain_id())  # a restart re-broadcasts the persisted nonce 0
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    w3.provider.make_request("evm_mine", [])
    assert w3.eth.get_transaction_count(daemon.address) == 2


def test_locked_senders_take_turns_on_one_nonce_sequence(anvil, empty_database_url):  # noqa: F811
    database_url = empty_database_url
    (daemon, cli), emitter, w3 = _processes(anvil.url, database_url, LockedSender)
    w3.provider.make_request("evm_setAutomine", [False])  # nothing reaches the chain's nonce meanwhile
    try:
        assert [s.nonce for s in _send(daemon, emitter, "daemon-1")] == [0]
        assert [s.nonce for s in _send(cli, emitter, "cli-1")] == [1]  # after the daemon's, from the DB
        assert [s.nonce for s in _send(daemon, emitter, "daemon-2")] == [2]
        done: list[int] = []

        def burst(sender: Sender, name: str) -> None:
            for index in range(5):
                done.extend(s.nonce for s in _send(sender, emitter, f"{name}-burst-{index}"))

        threads = [threading.Thread(target=burst, args=(s, n)) for s, n in ((daemon, "d"), (cli, "c"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(done) == list(range(3, 13))
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    w3.provider.make_request("evm_mine", [])
    assert _nonces(database_url) == list(range(13))
    assert w3.eth.get_transaction_count(daemon.address) == 13  # every signed nonce landed once
