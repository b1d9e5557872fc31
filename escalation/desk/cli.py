"""`escalation-desk`: `run` serves the desk, `mcp` is its MCP server over stdio, and the people at the
company post, list, show, approve, cancel, dispute, see the budget and withdraw through a running desk."""

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from pydantic import BaseModel, ValidationError

from escalation.errors import EscalationError
from escalation.models import Ticket
from protocol_core.errors import ProtocolError
from runtime.errors import DaemonError
from runtime.logs import configure_logging
from runtime.settings import first_problem

from .policy import usdc
from .requests import DeskStatus, EscalationRequest, JobView
from .sdk import DeskClient
from .settings import DeskSettings

M = TypeVar("M", bound=BaseModel)
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
@click.option("--url", envvar="ESCALATION_DESK_URL", default="http://127.0.0.1:8700", show_default=True,
              help="the running desk's HTTP API (ESCALATION_DESK_URL)")  # fmt: skip
@click.option("--api-key", envvar="ESCALATION_DESK_API_KEY", default="", help="ESCALATION_DESK_API_KEY")
@click.pass_context
def cli(context: click.Context, url: str, api_key: str) -> None:
    """The agent's desk: escalate support tickets to paid human specialists and follow them to payment."""
    context.obj = (url, api_key)


@cli.command()
@click.option("--config", "config_file", type=_FILE, help="TOML settings (ESCALATION_DESK_* override them)")
@click.option("--network", help="ape network choice (default polygon:local:foundry)")
@click.option("--account", help="ape alias of the agent key; passphrase in ESCALATION_DESK_PASSPHRASE")
@click.option("--rpc-url", help="JSON-RPC endpoint")
@click.option(
    "--database-url", help="SQLAlchemy URL of the desk's state (default sqlite:///escalation-desk.db)"
)
@click.option("--deployments-file", type=click.Path(path_type=Path), help="addresses written by the deploy")
@click.option("--api-port", type=int, help="port of the HTTP API on 127.0.0.1 (0 = any)")
@click.option("--metrics-port", type=int, help="port of /healthz, /readyz and /metrics (0 = any)")
def run(config_file: Path | None, **options: Any) -> None:
    """Serves the HTTP API and follows the desk's jobs until SIGTERM or SIGINT."""
    overrides = {name: value for name, value in options.items() if value is not None}
    try:
        settings = DeskSettings.load(config_file, **overrides)
    except ValidationError as error:
        _fail(f"invalid settings: {first_problem(error)}", 2)
    except DaemonError as error:
        _fail(str(error), 2)
    configure_logging(settings.log_level)
    try:
        from .wiring import daemon

        daemon(settings).serve()
    except (DaemonError, ProtocolError, EscalationError) as error:
        _fail(str(error), 2)


@cli.command()
@click.pass_obj
def mcp(desk: tuple[str, str]) -> None:
    """The desk's MCP server over stdio (tools: escalate, status, cancel, dispute, decide)."""
    from .mcp_server import mcp_server

    mcp_server(DeskClient(*desk)).run("stdio")


@cli.command()
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=Path("desk-blobs"),
              show_default=True, help="where the blobs live, named by their keccak256")  # fmt: skip
@click.option("--host", default="127.0.0.1", show_default=True, help="listen address")
@click.option("--port", type=int, default=8710, show_default=True, help="listen port")
@click.option("--public-url", default="", help="the base URL its blob URIs name (default: as asked)")
def store(folder: Path, host: str, port: int, public_url: str) -> None:
    """Serves the team's content store over HTTP (writes need ESCALATION_DESK_CONTENT_API_KEY)."""
    import os

    import uvicorn

    from protocol_core.content import FolderStore

    from .content_server import content_app

    key = os.environ.get("ESCALATION_DESK_CONTENT_API_KEY", "")
    if not key:
        _fail("the content store needs a write key: set ESCALATION_DESK_CONTENT_API_KEY", 2)
    uvicorn.run(content_app(FolderStore(folder), key, public_url), host=host, port=port, log_level="warning")


@cli.command()
@click.argument("ticket_file", type=_FILE)
@click.pass_obj
def post(desk: tuple[str, str], ticket_file: Path) -> None:
    """Escalates the ticket in TICKET_FILE (JSON: ticket_ref, language, issue, conversation, reward...)."""
    request = _read(ticket_file, EscalationRequest)
    view = _call(lambda: DeskClient(*desk).escalate(request))
    click.echo(f"{view.desk_id} {view.status}: {view.ticket_ref}, {usdc(view.total)} USDC committed")


@cli.command("list")
@click.option("--limit", default=100, show_default=True, help="newest first")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@click.pass_obj
def list_jobs(desk: tuple[str, str], limit: int, as_json: bool) -> None:
    """The desk's escalations with their state and money."""
    views = _call(lambda: DeskClient(*desk).jobs(limit))
    if as_json:
        for view in views:
            click.echo(view.model_dump_json())
        return
    click.echo(f"{'desk id':<21} {'ticket':<16} {'status':<18} {'reward':>10} {'total':>10}  job")
    for v in views:
        money = f"{usdc(v.reward):>10} {usdc(v.total):>10}"
        click.echo(f"{v.desk_id:<21} {v.ticket_ref:<16} {v.status:<18} {money}  {(v.job_id or '-')[:12]}")


@cli.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="the job's view as JSON")
@click.pass_obj
def show(desk: tuple[str, str], ref: str, as_json: bool) -> None:
    """One escalation by desk id, job id or ticket ref."""
    view = _call(lambda: DeskClient(*desk).status(ref))
    click.echo(view.model_dump_json(indent=2) if as_json else _describe(view))


@cli.command()
@click.argument("ref")
@click.pass_obj
def approve(desk: tuple[str, str], ref: str) -> None:
    """Approves an escalation waiting above the approval threshold: it is posted."""
    view = _call(lambda: DeskClient(*desk).approve(ref))
    click.echo(f"{view.desk_id} {view.status}")


@cli.command()
@click.argument("ref")
@click.pass_obj
def cancel(desk: tuple[str, str], ref: str) -> None:
    """Cancels an escalation nobody has accepted (the job's funds come back)."""
    view = _call(lambda: DeskClient(*desk).cancel(ref))
    done = "dropped, it was never posted" if view.status == DeskStatus.FAILED else "cancel sent"
    click.echo(f"{view.desk_id} {view.status}: {done}")


@cli.command()
@click.argument("ref")
@click.option("--reason", required=True, help="the customer's word, published as dispute evidence")
@click.option("--evidence-uri", help="a document with the reasons instead of the text")
@click.pass_obj
def dispute(desk: tuple[str, str], ref: str, reason: str, evidence_uri: str | None) -> None:
    """Disputes the verdict on a job (fee and bond come from the agent's USDC)."""
    view = _call(lambda: DeskClient(*desk).dispute(ref, reason, evidence_uri))
    click.echo(f"{view.desk_id} {view.status}: dispute sent")


@cli.command()
@click.pass_obj
def budget(desk: tuple[str, str]) -> None:
    """Today's committed spend against the policy."""
    b = _call(lambda: DeskClient(*desk).budget())
    limits = f"max reward {usdc(b.max_reward)} USDC, approval above {usdc(b.approval_threshold)} USDC"
    click.echo(f"{b.day}: {usdc(b.committed)} of {usdc(b.daily_budget)} USDC committed; {limits}")


@cli.command()
@click.pass_obj
def withdraw(desk: tuple[str, str]) -> None:
    """Withdraws the agent's credited refunds to the agent."""
    amount = _call(lambda: DeskClient(*desk).withdraw()).amount
    click.echo(f"withdrew {usdc(amount)} USDC" if amount else "nothing credited to withdraw")


@cli.command()
@click.argument("ticket_file", type=_FILE)
@click.pass_obj
def decide(desk: tuple[str, str], ticket_file: Path) -> None:
    """Asks the desk whether the ticket in TICKET_FILE (the `escalation decide` format) should escalate."""
    ticket = _read(ticket_file, Ticket)
    click.echo(_call(lambda: DeskClient(*desk).decide(ticket)).model_dump_json(indent=2))


def _describe(v: JobView) -> str:
    lines = [
        f"{v.desk_id}  {v.status}  ticket {v.ticket_ref}",
        f"job        {v.job_id or '-'}",
        f"money      reward {usdc(v.reward)} USDC, total {usdc(v.total)} USDC",
        f"worker     {v.worker or '-'}",
        f"deadline   {v.deadline or '-'}",
        f"dispute    {v.dispute_id or '-'}",
        f"redacted   {', '.join(f'{k} {n}' for k, n in v.redactions.items() if n) or 'nothing'}",
    ]
    lines += [f"sealed     to {s.role} {s.reader}: {s.uri}" for s in v.seals]
    return "\n".join(lines)


def _read(path: Path, model: type[M]) -> M:
    try:
        return model.model_validate(json.loads(path.read_text("utf-8")))
    except json.JSONDecodeError as error:
        _fail(f"{path}: not JSON ({error.msg} at line {error.lineno}); fix the file")
    except ValidationError as error:
        _fail(f"{path}: {first_problem(error)}; fix the file")


R = TypeVar("R")


def _call(action: Callable[[], R]) -> R:
    try:
        return action()
    except EscalationError as error:
        _fail(str(error))


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"escalation-desk: {message}", err=True)
    sys.exit(code)


def main() -> None:
    """Console entry point."""
    cli()
