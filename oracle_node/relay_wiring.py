"""Builds the relayed flow from the settings: the intake, the exchange, the leader and their server."""

from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine

from runtime.chain import Chain
from runtime.sender import Sender

from .dispatch import VerificationBackend
from .exchange import Exchange
from .intake import Intake
from .metrics import NodeMetrics
from .operators import OperatorSet
from .rate_limits import Buckets, Rate
from .relay import Relay
from .relay_contracts import RelayReads
from .relay_http import RelayServer, app
from .relay_leader import Leader
from .settings import NodeSettings

BODY_SLACK = 64 * 1024  # request bytes beyond the largest bundle: terms, signatures, JSON escaping


def build_relay(
    settings: NodeSettings,
    chain: Chain,
    escrow: str,
    oracle: str,
    engine: Engine,
    account: LocalAccount,
    sender: Sender,
    verifiers: VerificationBackend,
    metrics: NodeMetrics,
) -> Relay:
    """The relay for the node's pass, with its HTTP server bound now (a busy port fails at start)."""
    reads = RelayReads(chain, escrow, oracle)
    operators = OperatorSet(reads, settings.start_block)
    intake = Intake(
        engine,
        reads,
        settings.evidence_max_bytes,
        per_worker=Buckets(Rate(settings.intake_per_worker, settings.intake_burst_per_worker)),
        per_job=Buckets(Rate(settings.intake_per_job, settings.intake_burst_per_job)),
        metrics=metrics,
    )
    exchange = Exchange(
        engine,
        account,
        reads.oracle,
        operators,
        intake,
        settings.peers,
        settings.peer_timeout,
        settings.fallback_delay,
        metrics,
    )
    leader = Leader(
        engine,
        reads,
        operators,
        sender,
        settings.takeover_delay,
        exchange.patience,
        metrics,
        settings.fallback_delay,
    )
    server = RelayServer(
        app(intake, exchange, engine, settings.evidence_max_bytes * 2 + BODY_SLACK),
        settings.intake_host,
        settings.intake_port or 0,
    )
    return Relay(
        engine,
        reads,
        operators,
        exchange,
        leader,
        verifiers,
        in_flight=settings.verify_concurrency * 4,
        fallback_delay=settings.fallback_delay,
        intake=intake,
        server=server,
        retention=settings.relay_retention,
    )
