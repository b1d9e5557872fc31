"""Unlocking an ape keystore with a passphrase the operator gives through the environment."""

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import SecretStr

from .errors import KeystoreError


def unlock(alias: str, passphrase: SecretStr | None, variable: str) -> LocalAccount:
    """The key of ape account `alias`, decrypted with `passphrase` (read from the variable `variable`)."""
    if not alias:
        raise KeystoreError(
            "no signing account: pass --account <ape account alias> (see `ape accounts list`)"
        )
    if passphrase is None:
        raise KeystoreError(f"no passphrase for account {alias!r}: set {variable}")
    from ape import accounts  # ape is imported only here: it is slow to load and reads ~/.ape
    from ape.exceptions import AccountsError

    try:
        keyfile = accounts.load(alias).keyfile
    except (AccountsError, IndexError, KeyError) as error:
        raise KeystoreError(
            f"no ape account {alias!r}: import one with `ape accounts import {alias}`"
        ) from error
    try:
        key = Account.decrypt(keyfile, passphrase.get_secret_value())
    except ValueError as error:
        raise KeystoreError(f"wrong passphrase for account {alias!r}: check {variable}") from error
    return Account.from_key(key)
