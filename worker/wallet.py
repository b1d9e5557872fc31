"""The worker's wallet: an encrypted keystore (eth-account version 3, the format ape's accounts use),
a recovery phrase shown once, and the X25519 key context is sealed to, derived from the wallet's key.

The X25519 key is derived (keccak of a tag and the Ethereum key), so the recovery phrase restores both.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from nacl.public import PrivateKey

from .errors import BadInput, WalletMissing, WrongPassphrase

Account.enable_unaudited_hdwallet_features()
X25519_TAG = b"escalation worker x25519/1"
MIN_PASSPHRASE = 10  # characters; a keystore with a short passphrase is refused
PHRASE_WORDS = 12


@dataclass(frozen=True)
class Keys:
    """The unlocked keys of one session: never written anywhere, never shown."""

    account: LocalAccount
    x25519: PrivateKey

    @property
    def address(self) -> str:
        return str(self.account.address)

    @property
    def public_x25519(self) -> bytes:
        return bytes(self.x25519.public_key)


def keys_of(account: LocalAccount) -> Keys:
    """The session keys of an Ethereum key: itself and the X25519 key derived from it."""
    return Keys(account, PrivateKey(keccak(X25519_TAG + bytes(account.key))))


@dataclass(frozen=True)
class NewWallet:
    """A wallet made but not saved: saved only once the worker confirms its recovery phrase."""

    account: LocalAccount
    phrase: str


def new_wallet() -> NewWallet:
    """A fresh key with its 12-word recovery phrase (BIP-39, the first account of m/44'/60'/0'/0)."""
    account, phrase = Account.create_with_mnemonic(num_words=PHRASE_WORDS)
    return NewWallet(account, phrase)


def from_secret(secret: str) -> LocalAccount:
    """An existing key: a recovery phrase (12 or 24 words) or a private key (0x + 64 hex)."""
    text = " ".join(secret.split())
    try:
        if len(text.split()) >= PHRASE_WORDS:
            return Account.from_mnemonic(text)
        return Account.from_key(text)
    except Exception as exc:  # eth_account raises several types for a bad phrase or key
        raise BadInput(detail="refusal.not_a_key") from exc


class Keystore:
    """The encrypted key in one file under the app's home."""

    def __init__(self, home: Path, kdf_n: int = 2**18) -> None:
        self.path = Path(home) / "keystore.json"
        self.kdf_n = kdf_n

    def exists(self) -> bool:
        return self.path.exists()

    def address(self) -> str:
        """The wallet's address (readable without the passphrase)."""
        if not self.exists():
            raise WalletMissing(detail="refusal.no_wallet")
        return "0x" + str(json.loads(self.path.read_text())["address"]).removeprefix("0x")

    def save(self, account: LocalAccount, passphrase: str) -> None:
        """Encrypts `account` with `passphrase`; refuses a short passphrase and an existing wallet."""
        if len(passphrase) < MIN_PASSPHRASE:
            raise BadInput(detail="refusal.short_passphrase", minimum=MIN_PASSPHRASE)
        if self.exists():
            raise BadInput(detail="refusal.wallet_exists", address=self.address())
        keyfile = Account.encrypt(account.key, passphrase, kdf="scrypt", iterations=self.kdf_n)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(keyfile, handle)
        os.replace(temporary, self.path)

    def unlock(self, passphrase: str) -> Keys:
        """The session keys; WrongPassphrase when the passphrase does not open the keystore."""
        if not self.exists():
            raise WalletMissing(detail="refusal.no_wallet")
        try:
            key = Account.decrypt(json.loads(self.path.read_text()), passphrase)
        except ValueError as exc:
            raise WrongPassphrase(detail="refusal.wrong_passphrase") from exc
        return keys_of(Account.from_key(key))
