"""Fetches evidence bytes from file://, http(s):// and ipfs:// URIs, bounded in size and in where it goes."""

import ipaddress
import re
import socket
import threading
from collections import Counter
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

import httpx

from oracle_node.errors import (
    EvidenceTooLarge,
    EvidenceUnavailable,
    HostBusy,
    TransientFetchError,
    UnsupportedUri,
)
from runtime.errors import ConfigError

from .fetch_limits import ACCEPT_ENCODING, Deadline, inflate

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
        per_host: int = 2,
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
        self._lock = threading.Lock()
        self._active: set[Deadline] = set()
        self._per_host, self._hosts = per_host, Counter[str]()
        self._cancelled = False
        # No kept-alive connections: every fetch connects anew, so its Deadline knows its socket.
        no_reuse = httpx.Limits(max_keepalive_connections=0)
        self._client = client if client is not None else httpx.Client(follow_redirects=False, limits=no_reuse)

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
        deadline = Deadline(self._timeout)  # one wall clock for the fetch, redirects included
        host = str(urlsplit(url).hostname).lower()
        with self._lock:
            if self._cancelled:
                raise TransientFetchError(f"{url}: the node is stopping")
            # A stalling host holds at most per_host threads; the operator's own IPFS gateway is exempt.
            if not trusted and self._hosts[host] >= self._per_host:
                raise HostBusy(f"{host} has {self._per_host} fetches in flight; retried later")
            self._hosts[host] += 1
            self._active.add(deadline)
        with deadline:
            try:
                return self._http_within(url, trusted, deadline)
            except httpx.TransportError as exc:  # timeouts, refused connections, broken responses
                if deadline.expired:
                    raise TransientFetchError(f"{url} took longer than {self._timeout}s; will retry") from exc
                raise TransientFetchError(f"{url}: {type(exc).__name__} {exc}; will retry") from exc
            finally:
                with self._lock:
                    self._active.discard(deadline)
                    self._hosts[host] -= 1

    def cancel(self) -> None:
        """Ends every fetch in flight at once and refuses new ones (the node is stopping)."""
        with self._lock:
            self._cancelled = True
            active = list(self._active)
        for deadline in active:
            deadline.expire()

    def _http_within(self, url: str, trusted: bool, deadline: Deadline) -> bytes:
        for _ in range(MAX_REDIRECTS + 1):
            if not trusted:
                self._check_host(url)
            trusted = False
            try:
                with self._client.stream(
                    "GET",
                    url,
                    timeout=deadline.remaining(),
                    follow_redirects=False,
                    headers={"Accept-Encoding": ACCEPT_ENCODING},
                    extensions={"trace": deadline.trace},
                ) as response:
                    if response.is_redirect:
                        url = _redirect_target(url, response)
                        continue
                    _check_status(url, response)
                    return self._read(url, response, deadline)
            except httpx.InvalidURL as exc:
                raise UnsupportedUri(f"{url!r} is not a valid URL ({exc})") from exc
            except httpx.TransportError:
                raise
            except httpx.HTTPError as exc:  # undecodable content and the like: the server's fault, for good
                raise EvidenceUnavailable(f"{url}: {type(exc).__name__} {exc}") from exc
        raise EvidenceUnavailable(f"{url}: more than {MAX_REDIRECTS} redirects; link the bundle directly")

    def _read(self, url: str, response: httpx.Response, deadline: Deadline) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise EvidenceTooLarge(f"{url} declares {declared} bytes, over the limit of {self._max_bytes}")
        body = bytearray()
        encoding = response.headers.get("content-encoding", "")
        for chunk in inflate(url, encoding, response.iter_raw(), self._max_bytes):
            body += chunk
            if len(body) > self._max_bytes:
                raise EvidenceTooLarge(f"{url} sent more than the limit of {self._max_bytes} bytes")
            if deadline.expired:
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
