"""The one place that picks concrete classes: chain, database, store and keys in, a desk service out."""

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from escalation.config import load_config
from escalation.engine import EscalationEngine
from escalation.evaluate import load_known_issue_rows
from escalation.known_issues import read_known_issues
from escalation.matching.score import ScoreWeights
from escalation.matching.source import LivePool
from indexer.queries import ReadModel
from indexer.tables import metadata as indexer_tables
from protocol_core.content import ContentClient, FolderStore
from protocol_core.deployment import Addresses, load_deployments
from runtime.chain import Chain
from runtime.cursor import LogCursor, LogFilter
from runtime.daemon import Daemon
from runtime.db import connect
from runtime.errors import ConfigError, WrongDeployment
from runtime.health import HealthServer
from runtime.keystore import unlock
from runtime.metrics import RuntimeMetrics
from runtime.network import network_key, rpc_url, shown_url
from runtime.rpc import patiently
from runtime.sender import FeePolicy, Sender
from runtime.tracking import Tracker

from .confirm import Confirmations
from .contracts import DeskContracts
from .desk import Desk, DeskConfig
from .follow import DRAWN, ESCROW_TOPICS, DeskHooks, DeskLogs, Follower
from .handoff import Handoff
from .learning_feed import LearningFeed
from .notices import Notifier
from .offers import CandidateSource, OfferConfig, Offers
from .policy import SpendPolicy
from .relay import AcceptanceRelayer
from .relay_limit import RelayGate, RelayLimits
from .schema import migrate
from .serving import ServerThread
from .settings import ENV, DeskSettings
from .statements import Statements
from .tables import metadata
from .worker_door import WorkerDoor

log = logging.getLogger(__name__)

FEES = FeePolicy(bump_blocks=20, bump_percent=15, cap_wei=500 * 10**9, watch_blocks=12)


@dataclass
class DeskService:
    """Everything a running desk is made of."""

    desk: Desk
    follower: Follower
    confirmations: Confirmations
    relayer: AcceptanceRelayer
    store: ContentClient
    decider: EscalationEngine  # "should I escalate this?", offered by the doors
    metrics: RuntimeMetrics
    workers: WorkerDoor  # the accepted worker's door: its handoff, its evidence, its statements
    relays: RelayGate  # the limits on the relayed registrations and availability changes the desk pays for
    # One key, one nonce sequence: the API's commands and the follow loop's passes take turns.
    lock: threading.RLock = field(default_factory=threading.RLock)


def build(
    *,
    rpc_url: str,
    database_url: str,
    addresses: Addresses,
    agent: LocalAccount,
    config: DeskConfig,
    store: ContentClient,
    callback_secret: str,
    confirmer: LocalAccount | None = None,
    start_block: int = 0,
    log_chunk: int = 2_000,
    decider: EscalationEngine | None = None,
    candidates: CandidateSource | None = None,
    offers: OfferConfig | None = None,
    relay_limits: RelayLimits | None = None,
    clock: Callable[[], float] = time.time,
    learning_log: Path | None = None,
    learning_confirmations: int = 12,
) -> DeskService:
    """A desk on the chain at `rpc_url`, its state in `database_url`, ready to take requests and passes."""
    chain = Chain.over_http(rpc_url)
    chain_id = chain.chain_id()
    engine = connect(database_url, metadata)
    migrate(engine)  # a database an earlier desk wrote gets the columns added since
    metrics = RuntimeMetrics("desk")
    contracts = DeskContracts(chain, addresses)
    sender = Sender(chain, engine, agent, metrics, FEES)
    sender.start(chain_id)
    desk = Desk(engine, contracts, sender, agent, confirmer or agent, config, chain_id)
    source = LogFilter((contracts.escrow.address, contracts.pool.address), (*ESCROW_TOPICS, DRAWN))
    cursor: LogCursor = LogCursor(chain, engine, metrics, source, DeskLogs(), start_block, log_chunk)
    cursor.bind(chain_id, agent.address)
    tracker = Tracker(sender, chain, engine, metrics, FEES, DeskHooks())
    statements = Statements(engine, store, agent, chain_id, contracts.escrow.address)
    handoff = Handoff(engine, contracts, store, agent, chain_id, statements)
    notifier = Notifier(engine, callback_secret)
    # Offers need a candidate source (the indexer's read model); without one the job is open to all.
    offering = (
        Offers(engine, candidates, offers or OfferConfig(), notifier, callback_secret, clock)
        if candidates is not None
        else None
    )
    learning = (
        LearningFeed(engine, contracts, store, learning_log, learning_confirmations, log_chunk)
        if learning_log is not None
        else None
    )
    follower = Follower(desk, cursor, tracker, handoff, notifier, offering, learning)
    confirmations = Confirmations(engine, confirmer or agent, chain_id, contracts.escrow.address)
    decider = decider or EscalationEngine(load_config(), load_known_issue_rows())
    relayer, workers = AcceptanceRelayer(desk), WorkerDoor(desk, store, statements)
    relays = RelayGate(engine, relay_limits or RelayLimits(), clock)
    return DeskService(desk, follower, confirmations, relayer, store, decider, metrics, workers, relays)


def daemon(settings: DeskSettings) -> Daemon:
    """The desk daemon from its settings; raises DaemonError saying what to fix before anything runs."""
    from .api import desk_app  # the API module imports this one
    from .loop import DeskLoop

    if settings.api_key is None or not settings.api_key.get_secret_value():
        raise ConfigError(f"the desk's API needs a key: set {ENV}API_KEY")
    url = rpc_url(settings.network, settings.rpc_url, f"{ENV}RPC_URL")
    key = network_key(settings.network)
    known = load_deployments(settings.deployments_file)
    if key not in known:
        raise ConfigError(
            f"no deployment for {key} in {settings.deployments_file}: run "
            f"`ape run deploy system --network {settings.network}`, or pass the right --deployments-file"
        )
    agent = unlock(settings.account, settings.passphrase, f"{ENV}PASSPHRASE")
    confirmer = (
        unlock(settings.confirmer_account, settings.confirmer_passphrase, f"{ENV}CONFIRMER_PASSPHRASE")
        if settings.confirmer_account
        else None
    )
    decider = EscalationEngine(
        load_config(settings.engine_config),
        read_known_issues(settings.known_issues) if settings.known_issues else load_known_issue_rows(),
    )
    api_key = settings.api_key.get_secret_value()
    secret = (settings.callback_secret or settings.api_key).get_secret_value()
    log.info("using RPC %s", shown_url(url), extra={"network": settings.network})
    service = patiently(
        lambda: build(
            rpc_url=url, database_url=settings.database_url, addresses=known[key], agent=agent,
            config=_config(settings), store=_store(settings, agent), callback_secret=secret,
            confirmer=confirmer,
            start_block=settings.start_block, log_chunk=settings.log_chunk, decider=decider,
            relay_limits=_relay_limits(settings),
            learning_log=settings.learning_log, learning_confirmations=settings.learning_confirmations,
            **_matching(settings),
        ),
        settings.startup_timeout,
        "connecting to the chain",
    )  # fmt: skip
    # without a configured secret no one can sign a webhook call: a random one refuses them all
    hook = settings.helpdesk_secret.get_secret_value() if settings.helpdesk_secret else secrets.token_hex(32)
    api = ServerThread(desk_app(service, api_key, hook), settings.api_host, settings.api_port)
    health = HealthServer(settings.metrics_host, settings.metrics_port, service.metrics)
    fatal = (WrongDeployment, ConfigError)  # a wrong deployment or a port in use is not waited out
    return Daemon(DeskLoop(service, api), health, settings.poll_interval, fatal)


def _config(settings: DeskSettings) -> DeskConfig:
    policy = SpendPolicy(settings.max_reward, settings.daily_budget, settings.approval_threshold)
    return DeskConfig(policy, tuple(settings.redact_kinds), settings.use_permit, settings.permit_version)


def _relay_limits(settings: DeskSettings) -> RelayLimits:
    return RelayLimits(settings.relay_per_worker, settings.relay_total, settings.relay_window_s)


def _store(settings: DeskSettings, agent: LocalAccount) -> ContentClient:
    if settings.content_url:  # the agent proves its reads: the statements it stored are sealed to itself
        key = settings.content_api_key.get_secret_value() if settings.content_api_key else None
        return ContentClient(store_url=settings.content_url, api_key=key, reader=agent)
    return ContentClient(folder=FolderStore(settings.content_folder))


def _matching(settings: DeskSettings) -> dict[str, Any]:
    """The candidate source and offer config, when the desk reads an indexer's database."""
    if not settings.indexer_database_url:
        return {}
    model = ReadModel(connect(settings.indexer_database_url, indexer_tables))
    weights = ScoreWeights(min_score=settings.offer_min_score)
    config = OfferConfig(timeout_s=settings.offer_timeout_s, weights=weights, hooks=settings.offer_hooks)
    return {"candidates": LivePool(model).pool, "offers": config}
