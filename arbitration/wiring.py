"""The one place that picks concrete classes: settings in, a ready daemon (or the CLI's tools) out."""

import logging
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine

from protocol_core.deployment import Addresses, load_deployments
from runtime.chain import Chain
from runtime.cursor import LogCursor, LogFilter
from runtime.daemon import Daemon
from runtime.db import connect
from runtime.errors import ChainUnavailable, ConfigError
from runtime.health import HealthServer
from runtime.keystore import unlock
from runtime.network import confirmations, network_key, rpc_url, shown_url
from runtime.rpc import patiently
from runtime.sender import FeePolicy, Sender
from runtime.tracking import Tracker

from .events import topics
from .ingest import PoolLogs
from .keeper import Keeper
from .metrics import ArbitratorMetrics
from .nonce_lock import LockedSender
from .notices import Mail, Notifier
from .pool import PoolReader
from .settings import ArbitratorSettings
from .tables import schema
from .votes import VoteHooks
from .votes_file import VotesFile
from .watcher import Watcher

log = logging.getLogger(__name__)
ENV = "ARBITRATOR_"  # the settings' environment prefix, named in messages


@dataclass
class Parts:
    """What both the daemon and the CLI stand on: the chain, the pool, the database, the key's sender."""

    settings: ArbitratorSettings
    addresses: Addresses
    chain: Chain
    pool: PoolReader
    engine: Engine
    account: LocalAccount
    metrics: ArbitratorMetrics
    fees: FeePolicy
    sender: Sender

    def tracker(self) -> Tracker:
        """A tracker of the key's transactions that moves the vote and keeper rows."""
        return Tracker(self.sender, self.chain, self.engine, self.metrics, self.fees, VoteHooks())


def parts(settings: ArbitratorSettings, account: LocalAccount | None = None) -> Parts:
    """Checks the settings against the world and connects; raises DaemonError with what to fix. The
    key is the keystore's unless `account` is given (tests and benches that hold a key in memory)."""
    depth = confirmations(settings.network, settings.confirmations)
    url = rpc_url(settings.network, settings.rpc_url, f"{ENV}RPC_URL")
    addresses = _deployment(settings)
    if account is None:
        account = unlock(settings.account, settings.passphrase, f"{ENV}PASSPHRASE")
    engine = connect(settings.database_url, schema)
    log.info("using RPC %s", shown_url(url), extra={"network": settings.network})
    chain = Chain.over_http(url)
    pool = PoolReader(chain, addresses.arbitrator)

    def check() -> None:
        if chain.code_size(pool.address) == 0:
            raise ConfigError(f"no pool at {pool.address}: wrong network or deployments file?")

    try:
        patiently(check, settings.startup_timeout, "checking the deployment")
    except ChainUnavailable as error:
        raise ChainUnavailable(f"{error} at {shown_url(url)} (--rpc-url or {ENV}RPC_URL)") from None
    metrics = ArbitratorMetrics()
    fees = FeePolicy(
        bump_blocks=settings.gas_bump_blocks,
        bump_percent=max(settings.gas_bump_percent, 10),
        cap_wei=int(settings.max_fee_cap_gwei * 10**9),
        watch_blocks=max(64 if depth == "finalized" else depth, 12),
        bump_seconds=max(settings.gas_bump_seconds, 0.0),
        stuck_bumps=max(settings.stuck_after_bumps, 1),
    )
    sender = LockedSender(chain, engine, account, metrics, fees)  # the CLI and the daemon share nonces
    return Parts(settings, addresses, chain, pool, engine, account, metrics, fees, sender)


def build(settings: ArbitratorSettings, account: LocalAccount | None = None) -> Daemon:
    """The `arbitrator watch` daemon (its Watcher is the Daemon's service)."""
    p = parts(settings, account)
    source = LogFilter((p.pool.address,), topics())
    cursor = LogCursor(
        p.chain,
        p.engine,
        p.metrics,
        source,
        PoolLogs(p.sender.address),
        settings.start_block,
        settings.log_chunk,
    )
    watcher = Watcher(
        p.chain,
        cursor,
        p.sender,
        p.tracker(),
        p.engine,
        p.pool,
        p.metrics,
        Notifier(p.sender.address, settings.webhook_url, _mail(settings)),
        Keeper(p.engine, p.pool, p.sender, p.metrics) if settings.keeper else None,
        VotesFile(settings.votes_file) if settings.votes_file is not None else None,
    )
    health = HealthServer(settings.metrics_host, settings.metrics_port, p.metrics)
    return Daemon(watcher, health, poll_interval=settings.poll_interval)


def _mail(settings: ArbitratorSettings) -> Mail | None:
    if not settings.email_to:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return Mail(
        settings.email_to,
        settings.email_from,
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_starttls,
        settings.smtp_username,
        password,
    )


def _deployment(settings: ArbitratorSettings) -> Addresses:
    key = network_key(settings.network)
    known = load_deployments(settings.deployments_file)
    if key not in known or not known[key].arbitrator:
        raise ConfigError(
            f"no deployment with a pool for {key} in {settings.deployments_file}: pass the right "
            "--deployments-file, or run `ape run deploy system`"
        )
    return known[key]
