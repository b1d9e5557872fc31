"""The one place that picks concrete classes: chain, database, store and keys in, a desk service out."""

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from protocol_core.content import ContentClient
from protocol_core.deployment import Addresses
from runtime.chain import Chain
from runtime.cursor import LogCursor, LogFilter
from runtime.db import connect
from runtime.metrics import RuntimeMetrics
from runtime.sender import FeePolicy, Sender
from runtime.tracking import Tracker

from .confirm import Confirmations
from .contracts import DeskContracts
from .desk import Desk, DeskConfig
from .follow import DRAWN, ESCROW_TOPICS, DeskHooks, DeskLogs, Follower
from .handoff import Handoff
from .notices import Notifier
from .relay import AcceptanceRelayer
from .tables import metadata

FEES = FeePolicy(bump_blocks=20, bump_percent=15, cap_wei=500 * 10**9, watch_blocks=12)


@dataclass
class DeskService:
    """Everything a running desk is made of."""

    desk: Desk
    follower: Follower
    confirmations: Confirmations
    relayer: AcceptanceRelayer
    store: ContentClient


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
) -> DeskService:
    """A desk on the chain at `rpc_url`, its state in `database_url`, ready to take requests and passes."""
    chain = Chain.over_http(rpc_url)
    chain_id = chain.chain_id()
    engine = connect(database_url, metadata)
    metrics = RuntimeMetrics("desk")
    contracts = DeskContracts(chain, addresses)
    sender = Sender(chain, engine, agent, metrics, FEES)
    sender.start(chain_id)
    desk = Desk(engine, contracts, sender, agent, confirmer or agent, config, chain_id)
    source = LogFilter((contracts.escrow.address, contracts.pool.address), (*ESCROW_TOPICS, DRAWN))
    cursor: LogCursor = LogCursor(chain, engine, metrics, source, DeskLogs(), start_block, log_chunk)
    cursor.bind(chain_id, agent.address)
    tracker = Tracker(sender, chain, engine, metrics, FEES, DeskHooks())
    handoff = Handoff(engine, contracts, store, agent, chain_id)
    follower = Follower(desk, cursor, tracker, handoff, Notifier(engine, callback_secret))
    confirmations = Confirmations(engine, confirmer or agent, chain_id, contracts.escrow.address)
    return DeskService(desk, follower, confirmations, AcceptanceRelayer(), store)
