"""The test mnemonic's accounts (anvil's and ape's), their roles in the harness, and their keystores."""

import json
from pathlib import Path

from eth_account import Account
from eth_typing import HexStr

MNEMONIC = "test test test test test test test test test test test junk"
PASSPHRASE = "correct horse battery staple"  # guards keystores of public test keys in temp folders
KDF_COST = 2**14  # scrypt n; the default 2**18 costs ~0.5 s of CPU per keystore, for public keys
DEPLOYER, AGENT, CONFIRMER = 0, 1, 2  # roles of the standalone chains' accounts (devtools.protocol)
OPERATORS = (3, 4, 5)
WORKERS = tuple(range(6, 16))
Account.enable_unaudited_hdwallet_features()


def key_of(index: int) -> bytes:
    """The private key of the test mnemonic's account `index`."""
    return bytes(Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}").key)


def address_of(index: int) -> str:
    """The checksummed address of the test mnemonic's account `index`."""
    return str(Account.from_key(key_of(index)).address)


def write_keystore(data_folder: Path, alias: str, key: bytes | str, passphrase: str = PASSPHRASE) -> str:
    """Writes an ape keystore for `key` under `data_folder`/accounts as `alias`; returns the alias."""
    accounts = data_folder / "accounts"
    accounts.mkdir(parents=True, exist_ok=True)
    secret = key if isinstance(key, bytes) else HexStr(key)
    keyfile = Account.encrypt(secret, passphrase, iterations=KDF_COST)
    (accounts / f"{alias}.json").write_text(json.dumps(keyfile))
    return alias


def write_keystores(data_folder: Path, operators: tuple[int, ...] = OPERATORS) -> list[str]:
    """Keystores for the test accounts `operators`, as aliases op<index>."""
    return [write_keystore(data_folder, f"op{index}", key_of(index)) for index in operators]
