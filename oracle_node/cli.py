"""`oracle-node`: options become Settings; `run` builds the node and serves until a signal."""

import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any, NoReturn

import click
from pydantic import ValidationError

from protocol_core.errors import ProtocolError

from .errors import NodeError
from .logs import configure_logging
from .settings import NodeSettings

log = logging.getLogger("oracle_node")


@click.group()
def cli() -> None:
    """Oracle node of the escalation protocol: verifies submitted evidence and attests on chain."""


@cli.command()
@click.option("--network", help="ape network choice, e.g. polygon:amoy:node (default: polygon:local:foundry)")
@click.option(
    "--account", help="ape account alias whose keystore signs; passphrase in ORACLE_NODE_PASSPHRASE"
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file of settings (environment variables ORACLE_NODE_* override it)",
)
@click.option("--rpc-url", help="JSON-RPC endpoint (default: the network's uri in ape-config.yaml)")
@click.option("--database-url", help="SQLAlchemy URL of the node's state (default sqlite:///oracle-node.db)")
@click.option(
    "--deployments-file", type=click.Path(path_type=Path), help="addresses written by the deploy script"
)
@click.option(
    "--metrics-port", type=int, help="port of /healthz, /readyz and /metrics on 127.0.0.1 (0 = any)"
)
@click.option("--confirmations", help="blocks to wait before acting, or 'finalized'")
def run(config_file: Path | None, **options: Any) -> None:
    """Watches the escrow, verifies evidence and attests until SIGTERM or SIGINT."""
    overrides = {name: value for name, value in options.items() if value is not None}
    try:
        settings = NodeSettings.load(config_file, **overrides)
    except ValidationError as error:
        _fail(f"invalid settings: {_first_problem(error)}")
    configure_logging(settings.log_level)
    try:
        from .wiring import build

        runtime = build(settings)
    except (NodeError, ProtocolError) as error:
        _fail(str(error))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runtime.health.start()
    log.info("serving health and metrics", extra={"port": runtime.health.port})
    try:
        runtime.node.run(stop)
    except (NodeError, ProtocolError) as error:
        _fail(str(error))
    finally:
        runtime.health.stop()
    log.info("stopped")


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    return f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"


def _fail(message: str) -> NoReturn:
    click.echo(f"oracle-node: {message}", err=True)
    sys.exit(2)


def main() -> None:
    """Console entry point."""
    cli()
