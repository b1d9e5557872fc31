"""`arbitrator`: options become Settings; each command does one thing and says one line when refused."""

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from eth_account.signers.local import LocalAccount
from pydantic import ValidationError

from protocol_core.errors import ProtocolError
from runtime.cli import refuse
from runtime.errors import DaemonError
from runtime.logs import configure_logging
from runtime.settings import first_problem

from .settings import ArbitratorSettings

if TYPE_CHECKING:
    from .wiring import Parts

COMMON = ("network", "account", "rpc_url", "database_url", "deployments_file")


def settings_from(config_file: Path | None, options: dict[str, Any]) -> ArbitratorSettings:
    """Settings from the file, ARBITRATOR_* and the given options."""
    overrides = {name: value for name, value in options.items() if value is not None}
    try:
        return ArbitratorSettings.load(config_file, **overrides)
    except ValidationError as error:
        refuse("arbitrator", f"invalid settings: {first_problem(error)}")
    except DaemonError as error:
        refuse("arbitrator", str(error))


def connect(settings: ArbitratorSettings) -> "Parts":
    """A command's chain, pool, database and key: the keystore's key, unless a program that embeds the
    CLI handed one over as the context object (`cli.main(obj=account)`, as the in-process tests do)."""
    from .wiring import parts

    context = click.get_current_context(silent=True)
    held = context.find_root().obj if context is not None else None
    return parts(settings, held if isinstance(held, LocalAccount) else None)


def with_settings(command: Callable[..., None]) -> Callable[..., None]:
    """Adds the shared options and hands the command its Settings; errors become one line."""

    @click.option(
        "--config",
        "config_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="TOML file of settings (ARBITRATOR_* variables override it)",
    )
    @click.option("--network", help="ape network choice (default polygon:local:foundry)")
    @click.option("--account", help="ape account alias; passphrase in ARBITRATOR_PASSPHRASE")
    @click.option("--rpc-url", help="JSON-RPC endpoint (default: the network's uri in ape-config.yaml)")
    @click.option("--database-url", help="the daemon's database (default sqlite:///arbitrator.db)")
    @click.option("--deployments-file", type=click.Path(path_type=Path), help="addresses of the deployment")
    @functools.wraps(command)
    def wrapper(config_file: Path | None, **options: Any) -> None:
        shared = {name: options.pop(name) for name in COMMON}
        settings = settings_from(config_file, shared | options.pop("extra_settings", {}))
        try:
            command(settings, **options)
        except (DaemonError, ProtocolError) as error:
            refuse("arbitrator", str(error).splitlines()[0])

    return wrapper


@click.group()
def cli() -> None:
    """The arbitrator's client: stake, read cases, vote; `watch` never loses a vote."""


@cli.command()
@click.option("--metrics-port", type=int, help="port of /healthz, /readyz and /metrics (0 = any)")
@click.option("--keeper/--no-keeper", default=None, help="also draw, tally, execute and pay when due")
@click.option("--votes-file", type=click.Path(path_type=Path), help="JSON lines of votes to commit")
@click.option("--webhook-url", help="POSTed a JSON notice when drawn")
@click.option("--email-to", help="e-mailed a notice when drawn (server: ARBITRATOR_SMTP_HOST, _PORT...)")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--network")
@click.option("--account")
@click.option("--rpc-url")
@click.option("--database-url")
@click.option("--deployments-file", type=click.Path(path_type=Path))
def watch(config_file: Path | None, **options: Any) -> None:
    """Follows the pool: notices draws, commits the votes given, reveals them, keeps (if enabled)."""
    settings = settings_from(config_file, options)
    configure_logging(settings.log_level)
    try:
        from .wiring import build

        build(settings).serve()
    except (DaemonError, ProtocolError) as error:
        refuse("arbitrator", str(error))


def main() -> None:
    """Console entry point."""
    from . import cli_money, cli_votes  # noqa: F401  (they register their commands on `cli`)

    cli()
