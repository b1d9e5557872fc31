"""Fee bumps follow blocks and the clock, and a sender that cannot get a nonce mined, or shares its key
with another signer, says so (issue 9, item 10), on a real anvil with a clock the test moves."""

import time
from collections.abc import Iterator

import pytest
from eth_account import Account
from web3 import Web3

from devtools.chain import Anvil
from runtime.chain import Chain
from runtime.db import connect
from runtime.metrics import RuntimeMetrics
from runtime.sender import Call, FeePolicy, Sender
from runtime.tracking import Tracker
from tests.runtime.runtime_harness import Emitter, rpc
from tests.runtime.test_runtime_sender import SCHEMA, Hooks, claim, stored


class Clock:
    """Wall-clock seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Sending:
    """A sender and tracker with `fees` and the test's clock."""

    def __init__(self, url: str, engine, account, fees: FeePolicy) -> None:
        self.chain, self.metrics, self.clock = Chain.over_http(url), RuntimeMetrics("test"), Clock()
        self.sender = Sender(self.chain, engine, account, self.metrics, fees)
        self.tracker = Tracker(self.sender, self.chain, engine, self.metrics, fees, Hooks(), clock=self.clock)
        self.sender.start(self.chain.chain_id())

    def send(self, emitter: Emitter, purpose: str) -> None:
        call = Call(emitter.address, emitter.call_data(purpose, 1), 60_000, purpose, time.time())
        self.sender.send([call], self.chain.head(), claim)

    def tick(self) -> None:
        self.tracker.tick(self.chain.head())

    def bumps(self) -> float:
        return float(self.metrics.gas_bumps._value.get())


def mine_above(w3, engine) -> None:
    """Mines a block whose base fee is above the newest signed version's fee: it stays in the pool."""
    rpc(w3, "anvil_setNextBlockBaseFeePerGas", hex(stored(engine)[0].max_fee * 2))
    rpc(w3, "evm_mine")


@pytest.fixture(scope="module")
def anvil(tmp_path_factory) -> Iterator[Anvil]:
    started = Anvil(tmp_path_factory.mktemp("anvil"))
    started.start()
    yield started
    started.kill()


@pytest.fixture
def w3(anvil) -> Iterator[Web3]:
    w3 = Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 30}))
    yield w3
    rpc(w3, "evm_setAutomine", True)


@pytest.fixture
def setup(tmp_path, anvil, w3):
    """A fresh funded key, an emitter and a database; returns a factory of senders with given fees."""
    account = Account.create()
    funding = {"from": w3.eth.accounts[0], "to": account.address, "value": 10**18}
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(funding), timeout=30)
    emitter = Emitter.deploy(w3, w3.eth.accounts[0])
    engine = connect(f"sqlite:///{tmp_path}/daemon.db", SCHEMA)
    yield lambda fees: Sending(anvil.url, engine, account, fees), emitter, engine, account
    engine.dispose()


def test_a_bump_needs_the_blocks_and_the_seconds_and_never_restarts_the_count(w3, setup):
    make, emitter, engine, _ = setup
    sending = make(FeePolicy(bump_blocks=2, bump_percent=20, cap_wei=10**15, watch_blocks=3, bump_seconds=30))
    rpc(w3, "evm_setAutomine", False)
    sending.send(emitter, "a")
    for _ in range(6):
        mine_above(w3, engine)  # many blocks, one per transaction of a busy chain: still no bump
        sending.tick()
    assert sending.bumps() == 0

    sending.clock.now += 30
    sending.tick()
    assert sending.bumps() == 1
    for _ in range(6):
        mine_above(w3, engine)
        sending.tick()
    assert sending.bumps() == 1, "a bump restarts the clock of the next bump"
    sending.clock.now += 30
    sending.tick()
    assert sending.bumps() == 2
    assert len(stored(engine)[0].hashes.split(",")) == 3  # every version kept: the stuck count never resets


def test_a_nonce_re_signed_beyond_the_limit_makes_the_sender_stuck_until_it_is_mined(w3, setup):
    make, emitter, engine, _ = setup
    sending = make(FeePolicy(bump_blocks=1, bump_percent=20, cap_wei=10**15, watch_blocks=3, stuck_bumps=2))
    rpc(w3, "evm_setAutomine", False)
    sending.send(emitter, "a")
    for _ in range(2):
        mine_above(w3, engine)
        sending.tick()
    assert sending.bumps() == 2 and sending.tracker.problem() is None  # at the limit, not beyond
    mine_above(w3, engine)
    sending.tick()
    problem = sending.tracker.problem()
    assert problem is not None and "nonce 0 re-signed 3 times" in problem

    rpc(w3, "anvil_setNextBlockBaseFeePerGas", hex(1))
    rpc(w3, "evm_mine")  # the newest version is mined
    sending.tick()
    assert sending.tracker.problem() is None and stored(engine)[0].state == "mined"


def test_a_second_signer_on_the_key_makes_the_sender_stuck_for_a_while(w3, setup):
    make, emitter, engine, account = setup
    fees = FeePolicy(bump_blocks=2, bump_percent=20, cap_wei=10**15, watch_blocks=3, signer_alarm=60)
    sending = make(fees)
    rpc(w3, "evm_setAutomine", False)
    sending.send(emitter, "a")
    rpc(w3, "anvil_dropAllTransactions")
    other = {"chainId": w3.eth.chain_id, "nonce": 0, "to": account.address, "value": 0, "gas": 21_000,
             "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9}  # fmt: skip
    w3.eth.send_raw_transaction(account.sign_transaction(other).raw_transaction)
    rpc(w3, "evm_mine")
    sending.tick()

    problem = sending.tracker.problem()
    assert problem is not None and "a second signer used nonces [0]" in problem
    assert stored(engine)[0].state == "replaced"
    sending.clock.now += 61
    assert sending.tracker.problem() is None


class _ActsWhileReadingTheNonce(Chain):
    """The real chain, where something happens at the moment the tracker reads the key's nonce."""

    meanwhile: object = None

    def nonce(self, address: str, tag: str = "pending") -> int:
        if callable(self.meanwhile):
            self.meanwhile, act = None, self.meanwhile
            act()
        return super().nonce(address, tag)


def test_a_version_re_signed_by_the_process_sharing_the_database_is_not_a_second_signer(w3, setup):
    make, emitter, engine, _ = setup
    fees = FeePolicy(bump_blocks=1, bump_percent=20, cap_wei=10**15, watch_blocks=3, signer_alarm=60)
    daemon, cli = make(fees), make(fees)  # the daemon and the CLI beside it: one key, one database
    daemon.chain = _ActsWhileReadingTheNonce(daemon.chain.rpc)
    daemon.tracker._chain = daemon.chain
    rpc(w3, "evm_setAutomine", False)
    daemon.send(emitter, "a")
    first = stored(engine)[0].tx_hash

    def the_cli_re_signs_and_its_version_is_mined() -> None:
        mine_above(w3, engine)
        cli.clock.now += 60
        cli.tick()  # re-signed with higher fees, after the daemon's tick read the row
        rpc(w3, "anvil_dropTransaction", first)
        rpc(w3, "anvil_setNextBlockBaseFeePerGas", hex(1))
        rpc(w3, "evm_mine")

    daemon.chain.meanwhile = the_cli_re_signs_and_its_version_is_mined
    daemon.tick()

    assert cli.bumps() == 1 and daemon.chain.meanwhile is None  # the interleaving happened
    assert daemon.tracker.problem() is None, "the daemon's own re-signed nonce was taken for a stranger's"
    assert daemon.metrics.foreign_nonces._value.get() == 0
    daemon.tick()
    assert stored(engine)[0].state == "mined" and stored(engine)[0].tx_hash != first
