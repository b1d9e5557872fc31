"""`worker`: the app (`worker serve`) and the same actions for the terminal, with rich tables and one
clear line per refusal. Settings come from WORKER_* variables and the options; the passphrase from
WORKER_PASSPHRASE or a hidden prompt, never an argument."""

import json
import time
import webbrowser
from typing import Any

import click
from rich.table import Table

from protocol_core.enums import JobStatus
from protocol_core.languages import LANGUAGES

from .cli_support import console, core_of, fail, guarded, keys_of_ctx
from .cli_wallet import wallet
from .disputes import appeal, panel, why_no_appeal
from .errors import WorkerError
from .money import dispute as open_dispute
from .money import dispute_cost, money, usdc, withdraw
from .profile import read_profile, save_profile, set_available
from .settings import WorkerSettings
from .work import accept, available_jobs, current, open_job_context, progress, submit


@click.group()
@click.option("--home", type=click.Path(), help="where the wallet and index live (WORKER_HOME)")
@click.option("--rpc-url", help="the chain's RPC (WORKER_RPC_URL)")
@click.option("--desk-url", help="the agent's desk (WORKER_DESK_URL)")
@click.option("--deployments-file", type=click.Path(), help="deployments.json (WORKER_DEPLOYMENTS_FILE)")
@click.pass_context
def main(ctx: click.Context, **options: Any) -> None:
    """The worker's app and CLI."""
    given = {k: v for k, v in options.items() if v is not None}
    try:
        ctx.obj = {"settings": WorkerSettings(**given)}
    except ValueError as error:
        fail(f"settings: {error}", 2)


@main.command()
@click.option("--port", type=int, help="the app's port on 127.0.0.1 (WORKER_PORT)")
@click.option("--no-browser", is_flag=True, help="do not open the browser")
@click.pass_context
def serve(ctx: click.Context, port: int | None, no_browser: bool) -> None:
    """Starts the app on 127.0.0.1 and opens it in the browser."""
    import uvicorn

    from .web.app import create_app

    try:
        core = core_of(ctx)
    except WorkerError as error:
        fail(str(error), 2)
    if core.settings.host not in ("127.0.0.1", "localhost", "::1"):
        fail(f"the app serves on loopback only, not {core.settings.host}: unset WORKER_HOST", 2)
    config = uvicorn.Config(create_app(core), host=core.settings.host, port=port or core.settings.port,
                            log_level="warning", access_log=False)  # fmt: skip
    server = uvicorn.Server(config)
    url = f"http://127.0.0.1:{config.port}/"
    click.echo(f"the app is at {url}")
    if not no_browser:
        webbrowser.open(url)
    server.run()


@main.command()
@click.option("--language", "languages", multiple=True, required=True, type=click.Choice(LANGUAGES))
@click.option("--expertise", multiple=True, help="a product you know (repeat)")
@click.option("--at-once", default=2, show_default=True, help="jobs at once")
@click.pass_context
@guarded
def register(
    ctx: click.Context, languages: tuple[str, ...], expertise: tuple[str, ...], at_once: int
) -> None:
    """Registers (or updates) the profile; the desk relays it, so the wallet needs no POL."""
    keys = keys_of_ctx(ctx)
    save_profile(core_of(ctx), keys, list(languages), list(expertise), at_once)
    click.echo(f"profile of {keys.address} sent (relayed by the desk)")


@main.command()
@click.argument("state", type=click.Choice(["on", "off"]))
@click.pass_context
@guarded
def availability(ctx: click.Context, state: str) -> None:
    """Takes new jobs (on) or not (off); relayed."""
    set_available(core_of(ctx), keys_of_ctx(ctx), state == "on")
    click.echo(f"availability {state} sent")


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@guarded
def jobs(ctx: click.Context, as_json: bool) -> None:
    """The jobs this worker may take now (offers first)."""
    core = core_of(ctx)
    keys = keys_of_ctx(ctx)
    core.index.sync(core.chain)
    profile = read_profile(core, keys.address)
    found = available_jobs(core, profile, core.chain.now(), core.desk.offers(keys))
    if as_json:
        for offer in found:
            click.echo(
                json.dumps(
                    {
                        "job_id": offer.job.job_id,
                        "reward": usdc(offer.job.reward),
                        "offered": offer.offered,
                        "accept_by": offer.job.terms.accept_by,
                    }
                )
            )
        return
    table = Table("job", "reward (USDC)", "language", "take by", "offered")
    for offer in found:
        req = offer.job.terms.requirements
        table.add_row(offer.job.job_id, usdc(offer.job.reward), LANGUAGES[req.language],
                      str(offer.job.terms.accept_by), "yes" if offer.offered else "")  # fmt: skip
    console.print(table)


@main.command("accept")
@click.argument("job_id")
@click.pass_context
@guarded
def accept_cmd(ctx: click.Context, job_id: str) -> None:
    """Signs the acceptance of JOB_ID; the desk relays it."""
    receipt = accept(core_of(ctx), keys_of_ctx(ctx), job_id.lower())
    click.echo(f"{receipt['job_id']} acceptance sent ({receipt['status']})")


@main.command()
@click.argument("job_id")
@click.pass_context
@guarded
def context(ctx: click.Context, job_id: str) -> None:
    """Opens the ticket's sealed context locally and prints the conversation."""
    bundle, _ = open_job_context(core_of(ctx), keys_of_ctx(ctx), job_id.lower())
    if bundle is None:
        raise WorkerError("the desk has not handed the context over yet; try again in a moment")
    console.print(f"[bold]{bundle.ticket_ref}[/bold]: {bundle.issue}")
    for message in bundle.conversation:
        console.print(f"[dim]{message.role}[/dim] {message.text}", highlight=False)
    for item in bundle.acceptance_criteria:
        console.print(f"- {item}")


@main.command("submit")
@click.argument("job_id")
@click.option("--summary", required=True, help="what you did to resolve the ticket")
@click.pass_context
@guarded
def submit_cmd(ctx: click.Context, job_id: str, summary: str) -> None:
    """Hands the evidence (the customer's confirmation and the summary) to the oracle nodes."""
    receipts = submit(core_of(ctx), keys_of_ctx(ctx), job_id.lower(), summary)
    took = sum(1 for r in receipts if r["ok"])
    click.echo(f"evidence handed to {took} of {len(receipts)} oracle nodes")


@main.command()
@click.argument("job_id")
@click.pass_context
@guarded
def status(ctx: click.Context, job_id: str) -> None:
    """Where a job is, in words."""
    core = core_of(ctx)
    job = current(core, job_id.lower())
    _, outcome = progress(job, bool(core.index.work(job.job_id).get("handed_in_at")))
    reason = f" (reason {job.reason})" if job.approved is False else ""
    click.echo(f"{job.job_id} {JobStatus(job.status).name.lower()}: {outcome}{reason}")


@main.command()
@click.pass_context
@guarded
def earnings(ctx: click.Context) -> None:
    """Earnings per job and in total, the wallet's balance and any credit to withdraw (USDC)."""
    core = core_of(ctx)
    address = core.keystore.address()
    core.index.sync(core.chain)
    found = money(core, address)
    table = Table("job", "paid (USDC)")
    for job, amount in found.paid:
        table.add_row(job.job_id, usdc(amount))
    console.print(table)
    click.echo(
        f"total {usdc(found.total)} USDC, balance {usdc(found.balance)} USDC, "
        f"to withdraw {usdc(found.credit)} USDC"
    )


@main.command("withdraw")
@click.option("--to", help="another address, when the wallet's own cannot receive")
@click.pass_context
@guarded
def withdraw_cmd(ctx: click.Context, to: str | None) -> None:
    """Withdraws the credit (the worker's own transaction: it needs a little POL)."""
    tx = withdraw(core_of(ctx), keys_of_ctx(ctx), to)
    click.echo(f"withdrawn ({tx})")


@main.command("dispute")
@click.argument("job_id")
@click.option("--statement", default="", help="what you tell the arbitrators")
@click.option("--yes", is_flag=True, help="pay the fee and bond without asking")
@click.pass_context
@guarded
def dispute_cmd(ctx: click.Context, job_id: str, statement: str, yes: bool) -> None:
    """Disputes a rejection; the cost is said first."""
    core = core_of(ctx)
    fee, bond = dispute_cost(core, current(core, job_id.lower()))
    click.echo(f"a dispute costs {usdc(fee + bond)} USDC ({usdc(fee)} fee, {usdc(bond)} bond)")
    if not yes and not click.confirm("pay it and dispute?"):
        raise WorkerError("not disputed")
    tx = open_dispute(core, keys_of_ctx(ctx), job_id.lower(), statement)
    click.echo(f"disputed ({tx})")


@main.command("appeal")
@click.argument("job_id")
@click.option("--yes", is_flag=True, help="pay the appeal without asking")
@click.pass_context
@guarded
def appeal_cmd(ctx: click.Context, job_id: str, yes: bool) -> None:
    """Shows the panel's revealed votes, then appeals a ruling against you; the cost is said first."""
    core = core_of(ctx)
    core.index.sync(core.chain)
    found = panel(core, current(core, job_id.lower()))
    for vote in found.votes if found else ():
        at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(vote.at))
        click.echo(f"round {vote.round + 1}: {vote.arbitrator} voted {vote.choice.name.lower()} at {at}")
    if found is None or found.appeal is None:
        raise why_no_appeal(found)
    until = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(found.appeal.deadline))
    click.echo(f"an appeal costs {usdc(found.appeal.cost)} USDC until {until}; "
               f"a panel of {found.appeal.panel_size} decides again")  # fmt: skip
    if not yes and not click.confirm("pay it and appeal?"):
        raise WorkerError("not appealed")
    click.echo(f"appealed ({appeal(core, keys_of_ctx(ctx), job_id.lower())})")


main.add_command(wallet)
