"""What ape's configuration says about a network: its RPC URL and how deep a block must be to act on it."""

from typing import Literal
from urllib.parse import urlsplit

from .errors import ConfigError

FINALIZED_NETWORKS = frozenset({"polygon:mainnet"})  # trust the `finalized` tag instead of a depth
Confirmations = int | Literal["finalized"]


def network_key(choice: str) -> str:
    """The "ecosystem:network" of an ape network choice: "polygon:amoy" for "polygon:amoy:node"."""
    return ":".join(choice.split(":")[:2])


def confirmations(choice: str, override: Confirmations | None) -> Confirmations:
    """`override`, else "finalized" on FINALIZED_NETWORKS, else the network's depth in ape-config.yaml."""
    key = network_key(choice)
    depth = _configured_depth(choice, key)  # also refuses an unknown network when overridden
    if override is not None:
        return override
    return "finalized" if key in FINALIZED_NETWORKS else depth


def rpc_url(choice: str, override: str | None, variable: str) -> str:
    """`override`, else the HTTP(S) URI ape has configured for a local network; `variable` sets it too.

    A live network needs the operator's own endpoint: ape's list of public ones is never used.
    """
    if override:
        return override
    key = network_key(choice)
    if not _on_this_machine(key):
        raise ConfigError(
            f"{key} is a live network: pass --rpc-url ({variable}) with your own endpoint; "
            "the node does not fall back to public RPCs"
        )
    from ape import networks  # ape is imported only here: it is slow to load and reads ~/.ape
    from ape.exceptions import ApeException

    try:
        uri = networks.get_provider_from_choice(choice).uri
    except ApeException as error:
        raise ConfigError(
            f"{error} Set --rpc-url ({variable}) or the network's uri in ape-config.yaml"
        ) from error
    if not str(uri).startswith(("http://", "https://")):
        raise ConfigError(f"no RPC URL for {choice}: set --rpc-url ({variable})")
    return str(uri)


def _on_this_machine(key: str) -> bool:
    network = key.partition(":")[2]  # polygon:local, or a fork such as polygon:amoy-fork
    return network == "local" or network.endswith("-fork")


def _configured_depth(choice: str, key: str) -> int:
    from ape import networks
    from ape.exceptions import ApeException

    ecosystem, network = key.split(":")
    try:
        return int(networks.get_ecosystem(ecosystem).get_network(network).required_confirmations)
    except ApeException as error:
        raise ConfigError(f"unknown network {choice!r}: see `ape networks list`") from error


def shown_url(url: str) -> str:
    """`url` for a log line: scheme, host and port; a path or query (often an API key) is elided."""
    parts = urlsplit(url)
    hidden = (parts.path not in ("", "/")) or parts.query or parts.username
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}" + ("/…" if hidden else "")
