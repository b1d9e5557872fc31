"""Fetches evidence bytes from file://, http(s):// and ipfs:// URIs, bounded in size and in where it goes."""

import ipaddress
import re
import socket
import time
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

import httpx

from oracle_node.errors import EvidenceTooLarge, EvidenceUnavailable, TransientFetchError, UnsupportedUri
from runtime.errors import ConfigError

MAX_REDIRECTS = 3
_CID = re.compile(r"[A-Za-z0-9]+")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class EvidenceFetcher:
    """Reads one evidence URI: never more than `max_bytes`, never from a host or folder it must not."""

    def __init__(
        self,
        *,
        max_bytes: int,
        timeout: float,
        file_root: Path | None = None,
        ipfs_gateway: str = "",
        allow_private_hosts: bool = False,
        client: httpx.Client | None = None,
    ) -> None:
        self._max_bytes = max_bytes
        self._timeout = timeout
        if file_root is not None and not file_root.is_dir():  # else every file:// bundle is UNREACHABLE
            raise ConfigError(f"file_root {file_root} is not a folder: create it, or unset file_root")
        self._file_root = file_root.resolve() if file_root is not None else None
        self._gateway = ipfs_gateway.rstrip("/") + "/" if ipfs_gateway else ""
        self._allow_private = allow_private_hosts
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(follow_redirects=False)

    def fetch(self, uri: str) -> bytes:
        """The bytes at `uri`, or one of the fetch errors in oracle_node.errors."""
        try:
            scheme = urlsplit(uri).scheme.lower()
        except ValueError as exc:
            raise UnsupportedUri(
                f"{uri!r} is not a URI ({exc}); submit https://, ipfs:// or file://"
            ) from exc
        if scheme == "file":
            return self._file(uri)
        if scheme in _DEFAULT_PORTS:
            return self._http(uri)
        if scheme == "ipfs":
            # The operator's own gateway may be local (default 127.0.0.1:8080); its redirects are checked.
            return self._http(self._ipfs_url(uri), trusted=True)
        raise UnsupportedUri(
            f"{uri!r}: scheme {scheme!r} is not fetched; submit https://, ipfs:// or file://"
        )

    def close(self) -> None:
        """Closes the HTTP client if this fetcher created it."""
        if self._owns_client:
            self._client.close()

    def _file(self, uri: str) -> bytes:
        if self._file_root is None:
            raise UnsupportedUri(
                f"{uri!r}: this node serves no file:// URIs; set file_root to allow a folder"
            )
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise UnsupportedUri(f"{uri!r}: a file URI names an absolute local path, file:///folder/name")
        try:
            # resolve() follows symlinks, so a link inside the root pointing out of it is refused below.
            path = Path(unquote(parts.path)).resolve(strict=True)
        except (OSError, RuntimeError, ValueError) as exc:
            raise EvidenceUnavailable(f"{uri!r}: no such file ({exc})") from exc
        if not path.is_relative_to(self._file_root):
            raise EvidenceUnavailable(f"{uri!r} resolves outside file_root {self._file_root}; refused")
        try:
            with path.open("rb") as stream:
                data = stream.read(self._max_bytes + 1)
        except OSError as exc:
            raise EvidenceUnavailable(f"{uri!r} cannot be read ({exc})") from exc
        if len(data) > self._max_bytes:
            raise EvidenceTooLarge(f"{uri!r} is larger than the node's limit of {self._max_bytes} bytes")
        return data

    def _ipfs_url(self, uri: str) -> str:
        if not self._gateway:
            raise UnsupportedUri(f"{uri!r}: this node has no ipfs_gateway; submit an https:// URI")
        parts = urlsplit(uri)
        segments = [unquote(segment) for segment in parts.path.split("/") if segment]
        if not _CID.fullmatch(parts.netloc) or parts.query or parts.fragment or {".", ".."} & set(segments):
            raise UnsupportedUri(f"{uri!r}: an IPFS URI is ipfs://<cid>[/path]")
        return self._gateway + "/".join([parts.netloc, *(quote(segment, safe="") for segment in segments)])

    def _http(self, url: str, trusted: bool = False) -> bytes:
        for _ in range(MAX_REDIRECTS + 1):
            if not trusted:
                self._check_host(url)
            trusted = False
            try:
                with self._client.stream(
                    "GET", url, timeout=self._timeout, follow_redirects=False
                ) as response:
                    if response.is_redirect:
                        url = _redirect_target(url, response)
                        continue
                    _check_status(url, response)
                    return self._read(url, response)
            except httpx.InvalidURL as exc:
                raise UnsupportedUri(f"{url!r} is not a valid URL ({exc})") from exc
            except httpx.TransportError as exc:  # timeouts, refused connections, broken responses
                raise TransientFetchError(f"{url}: {type(exc).__name__} {exc}; will retry") from exc
            except httpx.HTTPError as exc:  # undecodable content and the like: the server's fault, for good
                raise EvidenceUnavailable(f"{url}: {type(exc).__name__} {exc}") from exc
        raise EvidenceUnavailable(f"{url}: more than {MAX_REDIRECTS} redirects; link the bundle directly")

    def _read(self, url: str, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise EvidenceTooLarge(f"{url} declares {declared} bytes, over the limit of {self._max_bytes}")
        deadline = time.monotonic() + self._timeout
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > self._max_bytes:
                raise EvidenceTooLarge(f"{url} sent more than the limit of {self._max_bytes} bytes")
            if time.monotonic() > deadline:
                raise TransientFetchError(f"{url} took longer than {self._timeout}s to send the bundle")
        return bytes(body)

    def _check_host(self, url: str) -> None:
        parts = urlsplit(url)
        if not parts.hostname:
            raise UnsupportedUri(f"{url!r} names no host; submit https://host/path")
        if self._allow_private:
            return
        # Checked before connecting; a DNS answer that changes between check and connect is not caught.
        try:
            infos = socket.getaddrinfo(parts.hostname, _port(url), type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise TransientFetchError(f"cannot resolve {parts.hostname}: {exc}") from exc
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
                address = address.ipv4_mapped
            if not address.is_global or address.is_multicast:
                raise EvidenceUnavailable(
                    f"{parts.hostname} resolves to {address}, not a public address; refused "
                    "(operators may set allow_private_hosts for tests and demos)"
                )


def _check_status(url: str, response: httpx.Response) -> None:
    status = response.status_code
    if status == 200:
        return
    if status == 429 or status >= 500:
        raise TransientFetchError(f"{url} answered {status}; will retry")
    raise EvidenceUnavailable(f"{url} answered {status}; the bundle must be served with 200")


def _redirect_target(url: str, response: httpx.Response) -> str:
    target = urljoin(url, response.headers.get("location", ""))
    if urlsplit(target).scheme not in _DEFAULT_PORTS:
        raise EvidenceUnavailable(f"{url} redirects to {target!r}; only http(s) redirects are followed")
    return target


def _port(url: str) -> int:
    parts = urlsplit(url)
    try:
        return parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError as exc:
        raise UnsupportedUri(f"{url!r} has an invalid port ({exc})") from exc
