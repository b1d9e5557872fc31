"""Content store: addressed by hash, checked on every read, limited in size; sealed blobs only for
their recipient over HTTP; IPFS gateway URLs read and checked like any other."""

import httpx
import pytest
from eth_account import Account
from eth_utils import keccak
from fastapi import FastAPI, Response
from nacl.public import PrivateKey

from devtools.chain import free_port
from escalation.desk.content_server import content_app
from escalation.desk.serving import ServerThread
from protocol_core.content import (
    ContentClient,
    ContentError,
    ContentForbidden,
    ContentMismatch,
    ContentTooLarge,
    ContentUnavailable,
    FolderStore,
    content_hash,
    read_headers,
)
from protocol_core.sealing import open_sealed, seal

AGENT = Account.from_key(keccak(b"agent"))
WORKER = Account.from_key(keccak(b"worker"))
STRANGER = Account.from_key(keccak(b"stranger"))
WORKER_KEY = PrivateKey(keccak(b"worker x25519"))
ESCROW = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
API_KEY = "team-secret"


def sealed_blob(payload: bytes = b"conversation") -> bytes:
    key = bytes(WORKER_KEY.public_key)
    return seal(payload, kind="context", signer=AGENT, sender=AGENT.address, recipient=WORKER.address,
                recipient_key=key, chain_id=137, escrow=ESCROW).canonical()  # fmt: skip


@pytest.fixture
def folder(tmp_path):
    return FolderStore(tmp_path / "blobs", max_bytes=64 * 1024)


@pytest.fixture
def server(folder):
    started = ServerThread(content_app(folder, API_KEY)).start()
    yield started
    started.stop()


def test_folder_store_round_trip_and_hash_check_on_read(folder):
    client = ContentClient(folder=folder)
    uri = client.put(b"evidence")
    assert uri.endswith(content_hash(b"evidence"))
    assert client.get(uri, keccak(b"evidence")) == b"evidence"
    folder.path(content_hash(b"evidence")).write_bytes(b"evidencE")  # the disk changed under us
    with pytest.raises(ContentMismatch, match="do not use them"):
        client.get(uri, keccak(b"evidence"))


def test_folder_store_limits_size_and_paths(folder, tmp_path):
    client = ContentClient(folder=folder)
    with pytest.raises(ContentTooLarge, match="is over the"):
        client.put(b"x" * (64 * 1024 + 1))
    outside = tmp_path / "secret"
    outside.write_bytes(b"secret")
    with pytest.raises(ContentForbidden, match="outside the store folder"):
        client.get(outside.as_uri(), keccak(b"secret"))
    with pytest.raises(ContentError, match="not a blob address"):
        folder.get("../secret")
    with pytest.raises(ContentError, match="unsupported URI scheme"):
        client.get("ftp://host/blob", keccak(b"x"))


def test_http_store_needs_the_api_key_for_writes(server):
    with pytest.raises(ContentForbidden, match="401"):
        ContentClient(store_url=server.url, api_key="wrong").put(b"blob")
    uri = ContentClient(store_url=server.url, api_key=API_KEY).put(b"blob")
    assert uri == f"{server.url}/blobs/{content_hash(b'blob')}"
    assert ContentClient().get(uri, keccak(b"blob")) == b"blob"  # a plain blob is public
    with pytest.raises(ContentTooLarge):
        ContentClient(store_url=server.url, api_key=API_KEY, max_bytes=10**6).put(b"x" * (64 * 1024 + 1))


def test_sealed_blob_is_served_only_to_its_recipient(server):
    blob = sealed_blob()
    uri = ContentClient(store_url=server.url, api_key=API_KEY).put(blob)
    data = ContentClient(reader=WORKER).get(uri, keccak(blob))
    assert open_sealed(data, WORKER_KEY, expected_sender=AGENT.address) == b"conversation"
    with pytest.raises(ContentForbidden, match="may not read this sealed blob"):
        ContentClient(reader=STRANGER).get(uri, keccak(blob))
    with pytest.raises(ContentForbidden, match="needs X-Reader"):
        ContentClient().get(uri, keccak(blob))
    # A proof signed by the stranger but naming the worker is refused.
    forged = read_headers(STRANGER, content_hash(blob)) | {"X-Reader": WORKER.address}
    assert httpx.get(uri, headers=forged).status_code == 401
    # A stale proof is refused too.
    stale = read_headers(WORKER, content_hash(blob), now=1_000_000)
    assert httpx.get(uri, headers=stale).status_code == 401


def test_ipfs_urls_are_read_through_the_gateway_and_checked():
    gateway = FastAPI()
    served = {"bafyevidence": b"evidence bytes", "bafyliar": b"not what you asked for"}

    @gateway.get("/ipfs/{cid}")
    def ipfs(cid: str) -> Response:
        return Response(served[cid])

    thread = ServerThread(gateway).start()
    try:
        client = ContentClient(ipfs_gateway=thread.url)
        assert client.get("ipfs://bafyevidence", keccak(b"evidence bytes")) == b"evidence bytes"
        with pytest.raises(ContentMismatch):
            client.get("ipfs://bafyliar", keccak(b"evidence bytes"))
    finally:
        thread.stop()


def test_unreachable_store_is_reported():
    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ContentUnavailable, match="cannot reach"):
        ContentClient(store_url=dead, api_key=API_KEY, timeout=2).put(b"blob")
    with pytest.raises(ContentUnavailable, match="cannot reach"):
        ContentClient(timeout=2).get(f"{dead}/blobs/{content_hash(b'blob')}", keccak(b"blob"))
