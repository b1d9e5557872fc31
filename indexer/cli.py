"""`indexer`: options become Settings; `run` builds the daemon and serves until a signal."""

from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from protocol_core.errors import ProtocolError
from runtime.cli import refuse
from runtime.errors import DaemonError
from runtime.logs import configure_logging
from runtime.settings import first_problem

from .settings import IndexerSettings


@click.group()
def cli() -> None:
    """Indexer of the escalation protocol: a SQL read model of workers, jobs, operators and disputes."""


@cli.command()
@click.option("--network", help="ape network choice (default: polygon:local:foundry)")
@click.option(
    "--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file of settings (environment variables INDEXER_* override it)",
)  # fmt: skip
@click.option("--rpc-url", help="JSON-RPC endpoint")
@click.option("--database-url", help="SQLAlchemy URL of the read model (default sqlite:///indexer.db)")
@click.option(
    "--deployments-file", type=click.Path(path_type=Path), help="addresses written by the deploy script"
)
@click.option("--start-block", type=int, help="first block read on an empty database")
@click.option("--api-port", type=int, help="port of the read API on 127.0.0.1 (0 = any)")
@click.option(
    "--metrics-port", type=int, help="port of /healthz, /readyz and /metrics on 127.0.0.1 (0 = any)"
)
def run(config_file: Path | None, **options: Any) -> None:
    """Follows the chain into the read model and serves it until SIGTERM or SIGINT."""
    overrides = {name: value for name, value in options.items() if value is not None}
    try:
        settings = IndexerSettings.load(config_file, **overrides)
    except ValidationError as error:
        refuse("indexer", f"invalid settings: {first_problem(error)}")
    except DaemonError as error:
        refuse("indexer", str(error))
    configure_logging(settings.log_level)
    try:
        from .wiring import build

        build(settings).serve()
    except (DaemonError, ProtocolError) as error:
        refuse("indexer", str(error))


def main() -> None:
    """Console entry point."""
    cli()
