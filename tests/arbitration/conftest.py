"""The arbitrator's daemon pass and CLI in this process on the session chain: the real Watcher, sender,
cursor and database that `arbitrator watch` runs, and the real commands, with a fresh funded key held
in memory (so no keystore is unlocked: that costs a process with ape in it)."""

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from eth_account import Account
from web3 import Web3

from arbitration.cli import cli
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
    """The logs of one event about one dispute of the session's pool (or the pool at `pool`)."""
    w3 = chain.provider.web3

    def read(name: str, dispute_id: int, pool: Any = None) -> list[dict]:
        address = Web3.to_checksum_address(str((pool or system.arbitrator).address))
        event = getattr(w3.eth.contract(address=address, abi=abi("ArbitrationPool")).events, name)
        return [
            dict(e["args"]) for e in event.get_logs(from_block=0, argument_filters={"disputeId": dispute_id})
        ]

    return read


class Cli:
    """`arbitrator <args>` in this process for one fresh funded key, its database and a deployment."""

    def __init__(self, rpc_url: str, deployments: Path, database: Path) -> None:
        from arbitration import cli_money, cli_votes  # noqa: F401  (they register their commands)

        self.account, self.rpc_url, self.database = Account.create(), rpc_url, database
        self.address = self.account.address
        self._shared = ["--deployments-file", str(deployments), "--database-url", f"sqlite:///{database}"]

    def __call__(self, *args: str, rpc_url: str | None = None, **env: str) -> Result:
        argv = [*args, *self._shared, "--rpc-url", rpc_url or self.rpc_url]
        return CliRunner().invoke(cli, argv, obj=self.account, env=env)


@pytest.fixture
def make_cli(tmp_path, chain, addresses) -> Callable[..., Cli]:  # noqa: F811
    """A Cli whose deployment is the session's, with the pool at `pool` when given."""

    def make(pool: Any = None) -> Cli:
        deployments = tmp_path / "cli-deployments.json"
        pool_address = str(pool.address) if pool is not None else addresses.arbitrator
        save_deployment("polygon:local", dataclasses.replace(addresses, arbitrator=pool_address), deployments)
        runner = Cli(chain.provider.http_uri, deployments, tmp_path / "cli.db")
        chain.provider.set_balance(runner.address, 10**20)
        return runner

    return make


def refused(result: Result) -> str:
    """The one line of a refusal: exit code 2, nothing else printed."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    (line,) = result.output.strip().splitlines()
    return line
