"""`oracle-node`: options become Settings; `run` builds the daemon and serves until a signal."""

from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from protocol_core.errors import ProtocolError
from runtime.cli import refuse
from runtime.errors import DaemonError
from runtime.logs import configure_logging
from runtime.settings import first_problem

from .settings import NodeSettings


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
        refuse("oracle-node", f"invalid settings: {first_problem(error)}")
    except DaemonError as error:
        refuse("oracle-node", str(error))
    configure_logging(settings.log_level)
    try:
        from .wiring import build

        daemon = build(settings)
    except (DaemonError, ProtocolError) as error:
        refuse("oracle-node", str(error))
    try:
        daemon.serve()
    except (DaemonError, ProtocolError) as error:
        refuse("oracle-node", str(error))


def main() -> None:
    """Console entry point."""
    cli()
