"""`worker wallet`: create (the recovery phrase shown once, two words asked back), import, show."""

import click

from .cli_support import guarded, keystore_of, passphrase
from .errors import WorkerError
from .wallet import from_secret, new_wallet


@click.group()
def wallet() -> None:
    """Create, import or show the wallet."""


@wallet.command("create")
@click.pass_context
@guarded
def wallet_create(ctx: click.Context) -> None:
    """Creates a wallet: the recovery phrase is shown once and two of its words are asked back."""
    keystore = keystore_of(ctx)
    if keystore.exists():
        raise WorkerError(f"a wallet exists already ({keystore.address()}); it was not replaced")
    made = new_wallet()
    words = made.phrase.split()
    click.echo("Write these 12 words down, in order; they are shown only now:\n  " + made.phrase)
    for position in (3, 9):
        if click.prompt(f"word {position}").strip().lower() != words[position - 1]:
            raise WorkerError(
                f"word {position} does not match: nothing was saved, run `worker wallet create` again"
            )
    keystore.save(made.account, passphrase(confirm=True))
    click.echo(f"wallet {made.account.address} saved")


@wallet.command("import")
@click.pass_context
@guarded
def wallet_import(ctx: click.Context) -> None:
    """Imports a recovery phrase or private key (asked for, hidden)."""
    account = from_secret(click.prompt("recovery phrase or private key", hide_input=True))
    keystore_of(ctx).save(account, passphrase(confirm=True))
    click.echo(f"wallet {account.address} saved")


@wallet.command("show")
@click.pass_context
@guarded
def wallet_show(ctx: click.Context) -> None:
    """The wallet's address."""
    click.echo(keystore_of(ctx).address())
