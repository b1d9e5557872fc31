"""The one place that picks concrete classes: settings in, a ready-to-run indexer out."""

import logging

from sqlalchemy import Engine

from protocol_core.abi import abi
from protocol_core.deployment import Addresses, load_deployments
from runtime.abi import function_selector
from runtime.asgi import ServerThread
from runtime.chain import Chain
from runtime.cursor import LogCursor, LogFilter
from runtime.daemon import Daemon
from runtime.db import connect
from runtime.errors import ConfigError
from runtime.health import HealthServer
from runtime.metrics import RuntimeMetrics
from runtime.network import network_key, rpc_url, shown_url
from runtime.rpc import patiently

from .api import read_api
from .facts import Fact, topics
from .queries import ReadModel
from .service import Indexer
from .settings import IndexerSettings
from .store import ReadModelLogs
from .tables import metadata
from .views import Views

log = logging.getLogger(__name__)
ENV = "INDEXER_"


def contracts_of(addresses: Addresses) -> dict[str, str]:
    """The contracts the indexer follows, by ABI name; an absent pool is left out."""
    named = {"WorkerRegistry": addresses.registry, "JobEscrow": addresses.escrow,
             "VerificationOracle": addresses.oracle, "ArbitrationPool": addresses.arbitrator}  # fmt: skip
    return {name: address for name, address in named.items() if address}


def cursor_for(chain: Chain, engine: Engine, metrics: RuntimeMetrics, addresses: Addresses, start_block: int,
               chunk: int) -> LogCursor[Fact | None]:  # fmt: skip
    """The log cursor over the deployment's contracts, with the read model as its handler."""
    contracts = contracts_of(addresses)
    window_call = function_selector(abi("JobEscrow"), "verificationWindow")
    window = patiently(lambda: int.from_bytes(chain.call(addresses.escrow, window_call), "big"), 20.0,
                       "reading the verification window")  # fmt: skip
    handler = ReadModelLogs(contracts, Views(chain, contracts, window))
    source = LogFilter(tuple(contracts.values()), topics())
    return LogCursor(chain, engine, metrics, source, handler, start_block, chunk)


def build(settings: IndexerSettings) -> Daemon:
    """Checks the settings and builds the daemon; raises DaemonError with what to fix."""
    url = rpc_url(settings.network, settings.rpc_url, f"{ENV}RPC_URL")
    key = network_key(settings.network)
    known = load_deployments(settings.deployments_file)
    if key not in known:
        raise ConfigError(f"no deployment for {key} in {settings.deployments_file}: pass --deployments-file")
    engine = connect(settings.database_url, metadata)
    log.info("using RPC %s", shown_url(url), extra={"network": settings.network})
    chain = Chain.over_http(url)
    metrics = RuntimeMetrics("indexer")
    cursor = cursor_for(chain, engine, metrics, known[key], settings.start_block, settings.log_chunk)
    api = ServerThread(read_api(ReadModel(engine)), settings.api_host, settings.api_port)
    service = Indexer(chain, cursor, metrics, api, contracts_of(known[key]))
    health = HealthServer(settings.metrics_host, settings.metrics_port, metrics)
    return Daemon(service, health, poll_interval=settings.poll_interval)
