"""The arbitrator's daemon pass in this process on the session chain: the real Watcher, sender, cursor
and database that `arbitrator watch` runs, with a fresh funded key held in memory."""

from collections.abc import Callable

import pytest
from eth_account import Account
from web3 import Web3

from arbitration.settings import ArbitratorSettings
from arbitration.watcher import Watcher
from arbitration.wiring import build
from protocol_core.abi import abi
from protocol_core.deployment import save_deployment
from tests.desk.conftest import addresses  # noqa: F401  (the session deployment's addresses)

MakeWatcher = Callable[..., Watcher]


@pytest.fixture
def make_watcher(tmp_path, chain, addresses) -> MakeWatcher:  # noqa: F811
    """Builds and starts the daemon's Watcher for a fresh funded key; settings as keyword overrides."""
    deployments = tmp_path / "deployments.json"
    save_deployment("polygon:local", addresses, deployments)

    def make(name: str = "arb", **settings: object) -> Watcher:
        account = Account.create()
        chain.provider.set_balance(account.address, 10**20)
        config = ArbitratorSettings(
            rpc_url=chain.provider.http_uri,
            deployments_file=deployments,
            database_url=f"sqlite:///{tmp_path}/{name}.db",
            metrics_port=0,
            gas_bump_seconds=0,
            **settings,
        )
        watcher = build(config, account).service
        assert isinstance(watcher, Watcher)
        watcher.start()
        return watcher

    return make


@pytest.fixture
def pool_logs(chain, system):
    """The pool's logs of one event about one dispute, read with web3 from the session chain."""
    w3 = chain.provider.web3
    pool = w3.eth.contract(
        address=Web3.to_checksum_address(str(system.arbitrator.address)), abi=abi("ArbitrationPool")
    )

    def read(name: str, dispute_id: int) -> list[dict]:
        found = getattr(pool.events, name).get_logs(from_block=0, argument_filters={"disputeId": dispute_id})
        return [dict(e["args"]) for e in found]

    return read
