"""The one place that picks concrete classes: settings in, a ready-to-run node out."""

import logging
from dataclasses import dataclass
from typing import Literal

from eth_account import Account
from eth_account.signers.local import LocalAccount

from protocol_core.deployment import Addresses, load_deployments

from .chain import Chain
from .dispatch import LocalVerification, VerificationBackend
from .errors import ChainUnavailable, ConfigError, KeystoreError
from .health import HealthServer
from .metrics import NodeMetrics
from .node import OracleNode, Pacing
from .pipeline import Pipeline
from .sender import FeePolicy, Sender
from .settings import NodeSettings
from .store import connect
from .tracking import Tracker
from .verify import Verifier
from .watcher import Watcher

log = logging.getLogger(__name__)
FINALIZED_NETWORKS = {"polygon:mainnet"}  # trust the `finalized` tag instead of a depth
GAS_MARGIN = 150_000  # added to the dry run's estimate: the attestation may end up the final one


@dataclass
class Runtime:
    """A built node and the server that reports on it."""

    node: OracleNode
    health: HealthServer


def build(settings: NodeSettings) -> Runtime:
    """Checks the settings against the world and builds the node; raises NodeError with what to fix."""
    network_key = ":".join(settings.network.split(":")[:2])
    confirmations = _confirmations(settings, network_key)  # also refuses an unknown network first
    addresses = _deployment(settings, network_key)
    account = _account(settings)
    chain = Chain.over_http(_rpc_url(settings), addresses.escrow, addresses.oracle)
    _check_contracts(chain, addresses)
    engine = connect(settings.database_url)
    metrics = NodeMetrics()
    health = HealthServer(settings.metrics_host, settings.metrics_port, metrics)
    fees = FeePolicy(
        bump_blocks=settings.gas_bump_blocks,
        bump_percent=max(settings.gas_bump_percent, 10),
        cap_wei=int(settings.max_fee_cap_gwei * 10**9),
        watch_blocks=max(64 if confirmations == "finalized" else confirmations, 12),
    )
    sender = Sender(chain, engine, account, metrics, fees)
    pipeline = Pipeline(
        chain,
        engine,
        sender,
        _verifiers(settings),
        metrics,
        in_flight=settings.verify_concurrency * 4,
        retry_backoff=max(settings.fetch_backoff, 0.1),
        gas_margin=GAS_MARGIN,
    )
    node = OracleNode(
        chain=chain,
        watcher=Watcher(chain, engine, metrics, settings.start_block, settings.log_chunk),
        sender=sender,
        tracker=Tracker(sender, chain, engine, metrics, fees),
        pipeline=pipeline,
        metrics=metrics,
        health=health,
        pacing=Pacing(confirmations=confirmations, poll_interval=settings.poll_interval),
    )
    return Runtime(node=node, health=health)


def _deployment(settings: NodeSettings, network_key: str) -> Addresses:
    known = load_deployments(settings.deployments_file)
    if network_key not in known:
        raise ConfigError(
            f"no deployment for {network_key} in {settings.deployments_file}: run "
            f"`ape run deploy system --network {settings.network}`, or pass the right --deployments-file"
        )
    return known[network_key]


def _account(settings: NodeSettings) -> LocalAccount:
    if not settings.account:
        raise KeystoreError(
            "no signing account: pass --account <ape account alias> (see `ape accounts list`)"
        )
    if settings.passphrase is None:
        raise KeystoreError(f"no passphrase for account {settings.account!r}: set ORACLE_NODE_PASSPHRASE")
    from ape import accounts  # ape is imported only here: it is slow to load and reads ~/.ape
    from ape.exceptions import AccountsError

    try:
        keyfile = accounts.load(settings.account).keyfile
    except (AccountsError, IndexError, KeyError) as error:
        raise KeystoreError(
            f"no ape account {settings.account!r}: import one with `ape accounts import {settings.account}`"
        ) from error
    try:
        key = Account.decrypt(keyfile, settings.passphrase.get_secret_value())
    except ValueError as error:
        raise KeystoreError(
            f"wrong passphrase for account {settings.account!r}: check ORACLE_NODE_PASSPHRASE"
        ) from error
    return Account.from_key(key)


def _rpc_url(settings: NodeSettings) -> str:
    if settings.rpc_url:
        return settings.rpc_url
    from ape import networks
    from ape.exceptions import ApeException

    try:
        uri = networks.get_provider_from_choice(settings.network).uri
    except ApeException as error:
        raise ConfigError(
            f"{error} Set --rpc-url (ORACLE_NODE_RPC_URL) or the network's uri in ape-config.yaml"
        ) from error
    if not str(uri).startswith(("http://", "https://")):
        raise ConfigError(f"no RPC URL for {settings.network}: set --rpc-url (ORACLE_NODE_RPC_URL)")
    return str(uri)


def _check_contracts(chain: Chain, addresses: Addresses) -> None:
    try:
        for name, address in (("escrow", addresses.escrow), ("oracle", addresses.oracle)):
            if chain.code_size(address) == 0:
                raise ConfigError(
                    f"no contract at the {name} address {address}: wrong network or deployments file?"
                )
        reports_to = chain.oracle_escrow()
        if reports_to != chain.escrow.address:  # job ids do not name their escrow
            raise ConfigError(
                f"the oracle {addresses.oracle} reports to {reports_to}, not to the escrow "
                f"{addresses.escrow}: the deployments file mixes two deployments"
            )
    except ChainUnavailable as error:
        raise ChainUnavailable(f"cannot reach the RPC to check the deployment: {error}") from error


def _confirmations(settings: NodeSettings, network_key: str) -> int | Literal["finalized"]:
    depth = _configured_depth(settings, network_key)
    if settings.confirmations is not None:
        return settings.confirmations
    return "finalized" if network_key in FINALIZED_NETWORKS else depth


def _configured_depth(settings: NodeSettings, network_key: str) -> int:
    from ape import networks
    from ape.exceptions import ApeException

    ecosystem, network = network_key.split(":")
    try:
        return int(networks.get_ecosystem(ecosystem).get_network(network).required_confirmations)
    except ApeException as error:
        raise ConfigError(f"unknown network {settings.network!r}: see `ape networks list`") from error


def _verifiers(settings: NodeSettings) -> VerificationBackend:
    if settings.broker_url:
        from .tasks import TaskiqVerification

        return TaskiqVerification(settings.broker_url)
    return LocalVerification(Verifier.from_settings(settings), settings.verify_concurrency)
