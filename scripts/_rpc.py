"""Which chain a command talks to: the RPC it was given, named and checked before anything is sent.

Every command takes `--rpc-url` and nothing else picks an RPC: ape's built-in list of public
endpoints and the throwaway chains ape-foundry starts are never used. The chain id and the node
software say which network it is: 137 or 80002 on a real node is Polygon or Amoy, the same ids on
an anvil are a fork of them, any other anvil is polygon:local.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import click
from ape import networks
from ape_foundry.provider import FoundryProvider
from web3 import HTTPProvider, Web3

from protocol_core.deployment import is_local, network_for_chain
from protocol_core.validation import InvalidInput, rpc_url

RPC_TIMEOUT = 15  # seconds per JSON-RPC request
RPC_ENV = "ESCALATION_RPC_URL"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Target:
    """The chain behind an RPC URL and the deployments key it is recorded under."""

    url: str
    chain_id: int
    client: str  # web3_clientVersion, e.g. "anvil/v1.7.1"
    network: str  # polygon:amoy, polygon:amoy-fork, polygon:local, ...

    @property
    def dev_node(self) -> bool:
        """True for an anvil (local chain or fork)."""
        return "anvil" in self.client.lower()

    @property
    def local(self) -> bool:
        """True for polygon:local and forks: test tokens and file:// evidence are fine there."""
        return is_local(self.network)

    def describe(self) -> str:
        """One line for the start of every command."""
        return f"{self.url} ({self.client.split('/')[0]}, chain id {self.chain_id}: {self.network})"

    def web3(self) -> Web3:
        """A web3 over this RPC for reads and dry runs."""
        return Web3(HTTPProvider(self.url, request_kwargs={"timeout": RPC_TIMEOUT}))


def rpc_options(command: F) -> F:
    """Adds --rpc-url and --network to a command."""
    command = click.option(
        "--network",
        "network",
        help="Expected network, e.g. polygon:amoy (optional: the RPC's chain id decides; a mismatch stops).",
    )(command)
    return click.option(
        "--rpc-url",
        "rpc_url",
        envvar=RPC_ENV,
        help=f"JSON-RPC endpoint of the chain, e.g. http://127.0.0.1:8545 for anvil (or ${RPC_ENV}).",
    )(command)


def resolve(url: str | None, network: str | None) -> Target:
    """Asks the RPC which chain it serves and checks it against `network`; says which RPC is used."""
    url = rpc_url(url)
    w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": RPC_TIMEOUT}))
    try:
        chain_id, client = int(w3.eth.chain_id), str(w3.client_version)
    except Exception as err:  # requests, JSON and RPC errors alike mean: nothing usable answers there
        raise InvalidInput(
            f"no chain answers at {url} ({type(err).__name__}); start one (e.g. `anvil --port 8545`) "
            "or fix --rpc-url"
        ) from err
    target = Target(url, chain_id, client, network_for_chain(chain_id, dev_node="anvil" in client.lower()))
    click.echo(f"using RPC {target.describe()}")
    if network:
        expected = ":".join(network.split(":")[:2])
        if expected != target.network:
            raise InvalidInput(
                f"--network {network} was asked for, but the RPC at {url} is {target.network} "
                f"(chain id {chain_id}); fix --rpc-url, or pass --network {target.network}"
            )
    return target


@contextmanager
def connected(target: Target) -> Iterator[None]:
    """ape connected to the target's RPC, for the length of the block; never starts a chain."""
    if target.dev_node:
        # APE_FOUNDRY_HOST would silently win over --rpc-url inside ape-foundry.
        os.environ.pop("APE_FOUNDRY_HOST", None)
        local = networks.polygon.local
        provider = ExistingAnvil(
            name="foundry", network=local, provider_settings={"host": target.url, "manage_process": False}
        )
        with local.use_provider(provider, disconnect_after=True):
            yield
        return
    ecosystem, name = target.network.split(":")
    network = networks.get_ecosystem(ecosystem).get_network(name)
    with network.use_provider("node", provider_settings={"uri": target.url}, disconnect_after=True):
        yield


class ExistingAnvil(FoundryProvider):
    """ape-foundry's provider for an anvil someone else runs, which may mine on a timer.

    ape-foundry takes an anvil without automine for one that mines only when asked, and returns
    receipts of unmined transactions ("did not create a contract"); an anvil with --block-time
    mines every transaction by itself, so receipts are awaited as usual.
    """

    @property
    def auto_mine(self) -> bool:
        return True

    @auto_mine.setter
    def auto_mine(self, value: bool) -> None:
        self.make_request("anvil_setAutomine", [value])
