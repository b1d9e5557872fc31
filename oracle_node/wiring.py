"""The one place that picks concrete classes: settings in, a ready-to-run daemon out."""

import logging

from protocol_core.deployment import Addresses, load_deployments
from runtime.chain import Chain
from runtime.cursor import LogCursor, LogFilter
from runtime.daemon import Daemon
from runtime.errors import ChainUnavailable, ConfigError
from runtime.health import HealthServer
from runtime.keystore import unlock
from runtime.network import confirmations, network_key, rpc_url, shown_url
from runtime.rpc import patiently
from runtime.sender import FeePolicy, Sender
from runtime.tracking import Tracker

from .attestations import AttestationHooks
from .contracts import OracleContracts
from .dispatch import LocalVerification, VerificationBackend
from .events import EVIDENCE_SUBMITTED, JOB_POSTED
from .ingest import EscrowLogs
from .metrics import NodeMetrics
from .node import OracleNode
from .pipeline import Pipeline
from .relay_sends import BothHooks, RelayHooks
from .relay_wiring import build_relay
from .settings import NodeSettings
from .standing import StandingWatch
from .store import connect
from .verify import Verifier

log = logging.getLogger(__name__)
GAS_MARGIN = 150_000  # added to the dry run's estimate: the attestation may end up the final one
ENV = "ORACLE_NODE_"  # the settings' environment prefix, named in messages


def build(settings: NodeSettings) -> Daemon:
    """Checks the settings against the world and builds the node; raises DaemonError with what to fix."""
    # What is on this machine is checked before the RPC is asked anything.
    depth = confirmations(settings.network, settings.confirmations)  # also refuses an unknown network first
    url = rpc_url(settings.network, settings.rpc_url, f"{ENV}RPC_URL")
    addresses = _deployment(settings)
    account = unlock(settings.account, settings.passphrase, f"{ENV}PASSPHRASE")
    verifiers = _verifiers(settings)
    engine = connect(settings.database_url)
    log.info("using RPC %s", shown_url(url), extra={"network": settings.network})
    chain = Chain.over_http(url)
    contracts = OracleContracts(chain, addresses.escrow, addresses.oracle)
    patiently(
        lambda: _check_contracts(contracts, addresses), settings.startup_timeout, "checking the deployment"
    )
    metrics = NodeMetrics()
    fees = FeePolicy(
        bump_blocks=settings.gas_bump_blocks,
        bump_percent=max(settings.gas_bump_percent, 10),
        cap_wei=int(settings.max_fee_cap_gwei * 10**9),
        watch_blocks=max(64 if depth == "finalized" else depth, 12),
        bump_seconds=max(settings.gas_bump_seconds, 0.0),
        stuck_bumps=max(settings.stuck_after_bumps, 1),
        signer_alarm=max(settings.second_signer_alarm, 0.0),
    )
    sender = Sender(chain, engine, account, metrics, fees)
    standing = StandingWatch(contracts, sender.address, metrics)
    pipeline = Pipeline(
        contracts,
        engine,
        sender,
        verifiers,
        metrics,
        in_flight=settings.verify_concurrency * 4,
        retry_backoff=max(settings.fetch_backoff, 0.1),
        gas_margin=GAS_MARGIN,
        standing=standing,
    )
    relay = None
    if settings.intake_port is not None:
        relay = build_relay(
            settings, chain, addresses.escrow, addresses.oracle, engine, account, sender, verifiers, metrics
        )
    escrow_logs = LogFilter((contracts.escrow,), (JOB_POSTED, EVIDENCE_SUBMITTED))
    node = OracleNode(
        chain=chain,
        cursor=LogCursor(
            chain, engine, metrics, escrow_logs, EscrowLogs(metrics), settings.start_block, settings.log_chunk
        ),
        sender=sender,
        tracker=Tracker(sender, chain, engine, metrics, fees, BothHooks(AttestationHooks(), RelayHooks())),
        pipeline=pipeline,
        metrics=metrics,
        confirmations=depth,
        standing=standing,
        relay=relay,
    )
    health = HealthServer(settings.metrics_host, settings.metrics_port, metrics)
    return Daemon(node, health, poll_interval=settings.poll_interval)


def _deployment(settings: NodeSettings) -> Addresses:
    key = network_key(settings.network)
    known = load_deployments(settings.deployments_file)
    if key not in known:
        raise ConfigError(
            f"no deployment for {key} in {settings.deployments_file}: run "
            f"`ape run deploy system --network {settings.network}`, or pass the right --deployments-file"
        )
    return known[key]


def _check_contracts(contracts: OracleContracts, addresses: Addresses) -> None:
    try:
        for name, address in (("escrow", addresses.escrow), ("oracle", addresses.oracle)):
            if contracts.chain.code_size(address) == 0:
                raise ConfigError(
                    f"no contract at the {name} address {address}: wrong network or deployments file?"
                )
        reports_to = contracts.oracle_escrow()
        if reports_to != contracts.escrow:  # job ids do not name their escrow
            raise ConfigError(
                f"the oracle {addresses.oracle} reports to {reports_to}, not to the escrow "
                f"{addresses.escrow}: the deployments file mixes two deployments"
            )
    except ChainUnavailable as error:
        raise ChainUnavailable(f"cannot reach the RPC to check the deployment: {error}") from error


def _verifiers(settings: NodeSettings) -> VerificationBackend:
    if settings.broker_url:
        from .tasks import TaskiqVerification

        return TaskiqVerification(settings.broker_url)
    return LocalVerification(Verifier.from_settings(settings), settings.verify_concurrency)
