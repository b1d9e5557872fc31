"""The account that signs a command's transactions: an ape keystore (or TEST::n on a local chain).

Interactive by default (ape asks for the passphrase once and before every transaction); `--yes`
signs without asking, with the passphrase from ESCALATION_PASSPHRASE (never from argv, never
logged), for scripted use.
"""

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click
from ape import accounts
from ape.api import AccountAPI
from ape.exceptions import AccountsError

from protocol_core.validation import InvalidInput

from ._rpc import Target

PASSPHRASE_ENV = "ESCALATION_PASSPHRASE"
TEST_PREFIX = "TEST::"
F = TypeVar("F", bound=Callable[..., Any])


def signer_options(command: F) -> F:
    """Adds --account and --yes to a command."""
    command = click.option(
        "--yes",
        "yes",
        is_flag=True,
        help=f"Sign every transaction without asking; the keystore passphrase comes from ${PASSPHRASE_ENV}.",
    )(command)
    return click.option(
        "--account",
        "account",
        help="ape account alias that signs (`ape accounts list`); TEST::<n> on a local chain.",
    )(command)


def load_signer(alias: str | None, yes: bool, target: Target) -> AccountAPI:
    """The unlocked account `alias`; each problem (unknown alias, wrong passphrase, no prompt) in one line."""
    if not alias:
        raise InvalidInput("no signing account: pass --account <alias> (see `ape accounts list`)")
    if alias.startswith(TEST_PREFIX):
        return _test_account(alias, target)
    try:
        account = accounts.load(alias)
    except (AccountsError, KeyError, IndexError):
        raise InvalidInput(
            f"no ape account {alias!r}: import its key with `ape accounts import {alias}` "
            "(`ape accounts list` shows the aliases)"
        ) from None
    passphrase = os.environ.get(PASSPHRASE_ENV) or None
    if yes and passphrase is None:
        raise InvalidInput(
            f"--yes signs without asking and needs the passphrase of {alias!r} in ${PASSPHRASE_ENV}"
        )
    try:
        if yes:
            account.set_autosign(True, passphrase=passphrase)
        else:
            account.unlock(passphrase=passphrase)
    except AccountsError:  # InvalidPasswordError, or three wrong answers at the prompt
        source = f"${PASSPHRASE_ENV}" if passphrase else "the prompt"
        raise InvalidInput(f"wrong passphrase for account {alias!r} (from {source})") from None
    except (click.Abort, EOFError):
        raise InvalidInput(no_prompt_answer("passphrase")) from None
    return account


def no_prompt_answer(what: str) -> str:
    """The line for a prompt that got no answer (stdin closed, or interrupted)."""
    return (
        f"no answer at the {what} prompt (stdin closed or interrupted); nothing was sent. "
        f"For scripted use pass --yes with the passphrase in ${PASSPHRASE_ENV}"
    )


def _test_account(alias: str, target: Target) -> AccountAPI:
    if not target.local:
        raise InvalidInput(
            f"{alias} is a test account whose key is public; on {target.network} sign with a keystore "
            "(`ape accounts import <alias>`)"
        )
    index = alias.removeprefix(TEST_PREFIX)
    known = len(accounts.test_accounts)
    if not index.isdigit() or int(index) >= known:
        raise InvalidInput(f"--account {alias}: write TEST::<n> with n below {known} (the test mnemonic)")
    return accounts.test_accounts[int(index)]
