"""Unlocking an ape keystore with a passphrase the operator gives through the environment."""

import json
import subprocess
import sys
from typing import Any

from Crypto.Cipher import AES
from Crypto.Util import Counter
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from pydantic import SecretStr

from .errors import KeystoreError

# scrypt (n=2**18) needs 256 MiB: the key is derived in a short-lived child that imports nothing
# but hashlib, so that memory is returned when it exits instead of doubling the daemon's peak.
_DERIVE = """
import hashlib, json, sys
given = json.load(sys.stdin)
kdf, params, secret = given["kdf"], given["kdfparams"], given["passphrase"].encode()
salt = bytes.fromhex(params["salt"])
if kdf == "scrypt":
    n, r, p, size = params["n"], params["r"], params["p"], params["dklen"]
    key = hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, dklen=size, maxmem=256 * r * n)
else:
    key = hashlib.pbkdf2_hmac("sha256", secret, salt, params["c"], params["dklen"])
sys.stdout.write(key.hex())
"""


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
    key = _decrypt(keyfile.get("crypto") or keyfile.get("Crypto") or {}, passphrase.get_secret_value())
    if key is None:
        raise KeystoreError(f"wrong passphrase for account {alias!r}: check {variable}")
    return Account.from_key(key)


def _decrypt(crypto: dict[str, Any], passphrase: str) -> bytes | None:
    """The private key of a version 3 keystore's `crypto` section; None when the passphrase is wrong."""
    if crypto.get("kdf") not in ("scrypt", "pbkdf2") or crypto.get("cipher") != "aes-128-ctr":
        raise KeystoreError(
            f"unsupported keystore: kdf {crypto.get('kdf')!r}, cipher {crypto.get('cipher')!r}"
        )
    given = json.dumps({"kdf": crypto["kdf"], "kdfparams": crypto["kdfparams"], "passphrase": passphrase})
    child = subprocess.run(
        [sys.executable, "-I", "-c", _DERIVE], input=given, capture_output=True, text=True, timeout=300
    )
    if child.returncode != 0:
        reason = (child.stderr.strip().splitlines() or ["no output"])[-1]
        raise KeystoreError(f"cannot derive the keystore's key: {reason}")
    derived = bytes.fromhex(child.stdout)
    ciphertext = bytes.fromhex(crypto["ciphertext"])
    if keccak(derived[16:32] + ciphertext) != bytes.fromhex(crypto["mac"]):
        return None
    counter = Counter.new(128, initial_value=int(crypto["cipherparams"]["iv"], 16))
    return bytes(AES.new(derived[:16], AES.MODE_CTR, counter=counter).decrypt(ciphertext))
