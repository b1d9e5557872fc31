"""What the CLI's commands share: one-line refusals, the settings-built core, the wallet's passphrase."""

import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console

from .core import Core, build
from .errors import WorkerError
from .settings import WorkerSettings
from .wallet import Keys, Keystore

console = Console()
T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, then exit with `code` (2: settings)."""
    click.echo(f"worker: {message}", err=True)
    sys.exit(code)


def guarded(action: Callable[..., T]) -> Callable[..., T]:
    """Every refusal as one line on stderr, exit code 1."""

    def run(*args: Any, **kwargs: Any) -> T:
        try:
            return action(*args, **kwargs)
        except WorkerError as error:
            fail(str(error))

    run.__name__, run.__doc__ = action.__name__, action.__doc__
    return run


def core_of(ctx: click.Context) -> Core:
    """The core, built on first use (the wallet's commands need no deployment)."""
    if "core" not in ctx.obj:
        ctx.obj["core"] = build(ctx.obj["settings"])
    return ctx.obj["core"]  # type: ignore[no-any-return]


def keystore_of(ctx: click.Context) -> Keystore:
    """The wallet's keystore under the settings' home."""
    settings: WorkerSettings = ctx.obj["settings"]
    return Keystore(settings.home, settings.kdf_n)


def passphrase(confirm: bool = False) -> str:
    """WORKER_PASSPHRASE, else a hidden prompt (never an argument)."""
    given = os.environ.get("WORKER_PASSPHRASE")
    if given is not None:
        return given
    return str(click.prompt("passphrase", hide_input=True, confirmation_prompt=confirm))


def keys_of_ctx(ctx: click.Context) -> Keys:
    """The unlocked keys for one command."""
    return core_of(ctx).keystore.unlock(passphrase())
