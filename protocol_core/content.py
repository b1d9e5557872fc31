"""The content store client: blobs addressed by their keccak256, checked on every read, size-limited.

Three places hold blobs: a local folder (the default; `file://` URIs), a team's HTTP store
(`http(s)://host/blobs/0x<hash>`; writes with the team's API key, reads of a sealed envelope only by
its recipient or sender, proved by a signature), and IPFS, read through a gateway
(`ipfs://<cid>` -> `<gateway>/ipfs/<cid>`). Whatever the place, a read is checked against the hash the
caller expects (the one on chain, or the one it was given), never against the place's word.
"""

import os
import tempfile
import time
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

import httpx
from eth_account.messages import SignableMessage, encode_defunct
from eth_utils import keccak

from .errors import ProtocolError

MAX_BLOB = 4 * 1024 * 1024  # bytes; a 100 KB conversation sealed is about 140 KB
READ_PROOF_TTL = 300  # seconds a signed read request stays valid
READER_HEADER, EXPIRES_HEADER, SIGNATURE_HEADER = "X-Reader", "X-Read-Expires", "X-Read-Signature"
API_KEY_HEADER = "X-Api-Key"


class ContentError(ProtocolError):
    """A blob cannot be stored or read; the message says why."""


class ContentTooLarge(ContentError):
    """A blob is over the size limit."""


class ContentMismatch(ContentError):
    """The bytes read do not hash to what was expected."""


class ContentUnavailable(ContentError):
    """The store cannot be reached, or does not have the blob."""


class ContentForbidden(ContentError):
    """The store refused: no API key for a write, or the reader is not the blob's recipient."""


class Signer(Protocol):
    """An Ethereum key that signs messages (eth_account's LocalAccount)."""

    @property
    def address(self) -> str: ...

    def sign_message(self, signable_message: SignableMessage) -> object: ...


def content_hash(data: bytes) -> str:
    """0x + keccak256 of `data`: a blob's address."""
    return "0x" + keccak(data).hex()


def read_proof_message(blob: str, expires: int) -> SignableMessage:
    """The EIP-191 message a reader signs to read `blob` until `expires` (unix seconds)."""
    return encode_defunct(text=f"escalation content read\nblob: {blob.lower()}\nexpires: {expires}")


def worker_proof_message(job_id: str, expires: int) -> SignableMessage:
    """The EIP-191 message a job's worker signs to be answered about `job_id` by the desk's worker door
    until `expires` (unix s)."""
    return encode_defunct(text=f"escalation desk worker\njob: {job_id.lower()}\nexpires: {expires}")


def read_headers(reader: Signer, blob: str, now: float | None = None) -> dict[str, str]:
    """The headers that prove `reader` asks for `blob`, valid for READ_PROOF_TTL seconds."""
    expires = int(now if now is not None else time.time()) + READ_PROOF_TTL
    return _proof_headers(reader, read_proof_message(blob, expires), expires)


def worker_headers(worker: Signer, job_id: str, now: float | None = None) -> dict[str, str]:
    """The headers that prove `worker` asks the desk about `job_id`, valid for READ_PROOF_TTL seconds."""
    expires = int(now if now is not None else time.time()) + READ_PROOF_TTL
    return _proof_headers(worker, worker_proof_message(job_id, expires), expires)


def _proof_headers(signer: Signer, message: SignableMessage, expires: int) -> dict[str, str]:
    signature = bytes(signer.sign_message(message).signature)  # type: ignore[attr-defined]
    return {
        READER_HEADER: signer.address,
        EXPIRES_HEADER: str(expires),
        SIGNATURE_HEADER: "0x" + signature.hex(),
    }


def check(data: bytes, expect_hash: str | bytes, where: str, max_bytes: int = MAX_BLOB) -> bytes:
    """`data` if it is within the limit and hashes to `expect_hash`; raises otherwise."""
    if len(data) > max_bytes:
        raise ContentTooLarge(f"{where}: {len(data)} bytes is over the limit of {max_bytes}")
    expected = expect_hash if isinstance(expect_hash, str) else "0x" + bytes(expect_hash).hex()
    if content_hash(data) != expected.lower():
        raise ContentMismatch(
            f"{where}: the bytes hash to {content_hash(data)}, not to {expected.lower()}: "
            "the store changed them or the URI is wrong; do not use them"
        )
    return data


class FolderStore:
    """Blobs as files named by their hash in one folder; writes are atomic."""

    def __init__(self, root: Path, max_bytes: int = MAX_BLOB) -> None:
        self.root = Path(root).resolve()
        self.max_bytes = max_bytes
        self.root.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes) -> str:
        """Stores `data`; returns its file:// URI (storing the same bytes twice is one file)."""
        if len(data) > self.max_bytes:
            raise ContentTooLarge(f"{len(data)} bytes is over the store's limit of {self.max_bytes}")
        path = self.path(content_hash(data))
        if not path.exists():
            with tempfile.NamedTemporaryFile(dir=self.root, delete=False, prefix=".put-") as handle:
                handle.write(data)
            os.replace(handle.name, path)
        return path.as_uri()

    def path(self, blob: str) -> Path:
        """Where blob `blob` (0x + 64 hex) lives."""
        name = blob.lower()
        if len(name) != 66 or not name.startswith("0x") or any(c not in "0123456789abcdef" for c in name[2:]):
            raise ContentError(f"{blob!r} is not a blob address (0x + 64 hex)")
        return self.root / name

    def get(self, blob: str) -> bytes:
        """The bytes of `blob`, checked against its address."""
        path = self.path(blob)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise ContentUnavailable(f"no blob {blob} in {self.root}") from exc
        return check(data, blob, str(path), self.max_bytes)


class ContentClient:
    """Reads blobs by URI (file://, http(s)://, ipfs://) and writes to one store; every read is checked."""

    def __init__(
        self,
        *,
        folder: FolderStore | None = None,  # file:// reads are allowed only inside it
        store_url: str | None = None,  # a team's HTTP store, for writes
        api_key: str | None = None,  # the store's key for writes
        reader: Signer | None = None,  # the key that proves who reads a sealed blob
        ipfs_gateway: str = "https://ipfs.io",
        timeout: float = 10.0,
        max_bytes: int = MAX_BLOB,
    ) -> None:
        self._folder, self._store_url, self._api_key = folder, store_url, api_key
        self._reader, self._gateway, self._timeout, self._max = reader, ipfs_gateway, timeout, max_bytes
        self._http = httpx.Client(timeout=timeout)

    def put(self, data: bytes) -> str:
        """Stores `data` in the team's store if one is set, else in the folder; returns its URI."""
        if len(data) > self._max:
            raise ContentTooLarge(f"{len(data)} bytes is over the limit of {self._max}")
        if self._store_url is None:
            if self._folder is None:
                raise ContentError("no store configured: give a folder or a store URL")
            return self._folder.put(data)
        url = self._store_url.rstrip("/") + "/blobs"
        response = self._request("POST", url, content=data, headers={API_KEY_HEADER: self._api_key or ""})
        uri = str(response.json()["uri"])
        if not uri.endswith(content_hash(data)):
            raise ContentMismatch(
                f"the store at {url} answered {uri} for a blob of hash {content_hash(data)}"
            )
        return uri

    def uri_of(self, blob: str) -> str:
        """Where this client's own store (the team's HTTP store, else the folder) keeps `blob`."""
        if self._store_url is not None:
            return f"{self._store_url.rstrip('/')}/blobs/{blob.lower()}"
        if self._folder is None:
            raise ContentError("no store configured: give a folder or a store URL")
        return self._folder.path(blob).as_uri()

    def get(self, uri: str, expect_hash: str | bytes) -> bytes:
        """The blob at `uri`, checked to hash to `expect_hash`."""
        parsed = urlparse(uri)
        if parsed.scheme == "file":
            return self._get_file(unquote(parsed.path), expect_hash)
        if parsed.scheme == "ipfs":
            url = f"{self._gateway.rstrip('/')}/ipfs/{parsed.netloc}{parsed.path}"
            return check(self._request("GET", url).content, expect_hash, uri, self._max)
        if parsed.scheme in ("http", "https"):
            blob = expect_hash if isinstance(expect_hash, str) else "0x" + bytes(expect_hash).hex()
            headers = read_headers(self._reader, blob) if self._reader is not None else {}
            return check(self._request("GET", uri, headers=headers).content, expect_hash, uri, self._max)
        raise ContentError(f"unsupported URI scheme {parsed.scheme!r} in {uri}: use file, http(s) or ipfs")

    def holds(self, uri: str) -> bool:
        """Whether `uri` names a blob in this client's own store (its folder, or its team's HTTP store)."""
        parsed = urlparse(uri)
        if parsed.scheme == "file":
            folder = self._folder
            return folder is not None and Path(unquote(parsed.path)).resolve().parent == folder.root
        if self._store_url is None or parsed.scheme not in ("http", "https"):
            return False
        return uri.startswith(self._store_url.rstrip("/") + "/blobs/")

    def _get_file(self, path: str, expect_hash: str | bytes) -> bytes:
        if self._folder is None or Path(path).resolve().parent != self._folder.root:
            raise ContentForbidden(f"file://{path} is outside the store folder; file reads stay inside it")
        return check(self._folder.get(Path(path).name), expect_hash, path, self._max)

    def _request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        try:
            with self._http.stream(method, url, **kwargs) as response:  # type: ignore[arg-type]
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > self._max:
                        raise ContentTooLarge(f"{url}: the answer is over the limit of {self._max} bytes")
                status = response.status_code
        except httpx.TransportError as exc:
            raise ContentUnavailable(f"cannot reach {url}: {type(exc).__name__} {exc}") from exc
        if status in (401, 403):
            raise ContentForbidden(f"{url} refused ({status}): {body[:200].decode(errors='replace')}")
        if status == 413:
            raise ContentTooLarge(f"{url} refused the blob as too large")
        if status >= 300:
            raise ContentUnavailable(f"{url} answered {status}: {body[:200].decode(errors='replace')}")
        return httpx.Response(status, content=bytes(body))

    def close(self) -> None:
        """Closes the HTTP connections."""
        self._http.close()
