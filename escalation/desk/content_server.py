"""The team's content store over HTTP: content-addressed blobs, writes with an API key, sealed blobs
readable only by their recipient or sender, proved by a signed read request."""

import hmac
import time

from eth_account import Account
from fastapi import FastAPI, HTTPException, Request, Response

from protocol_core.content import (
    API_KEY_HEADER,
    EXPIRES_HEADER,
    READ_PROOF_TTL,
    READER_HEADER,
    SIGNATURE_HEADER,
    ContentError,
    ContentTooLarge,
    ContentUnavailable,
    FolderStore,
    content_hash,
    read_proof_message,
)
from protocol_core.sealing import MalformedSeal, SealedEnvelope


def content_app(store: FolderStore, api_key: str, public_url: str = "") -> FastAPI:
    """The store's HTTP API on `store`; `public_url` is the base its URIs name (the request's by default)."""
    if not api_key:
        raise ValueError("the content store needs an API key for writes")
    app = FastAPI(title="Escalation content store", version="1")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Alive and serving."""
        return {"status": "ok"}

    @app.post("/blobs", status_code=201)
    async def put(request: Request) -> dict[str, str]:
        """Stores the body; answers its address and URI. Needs the team's API key."""
        if not hmac.compare_digest(request.headers.get(API_KEY_HEADER, ""), api_key):
            raise HTTPException(401, f"wrong or missing {API_KEY_HEADER}")
        declared = int(request.headers.get("content-length") or 0)
        if declared > store.max_bytes:
            raise HTTPException(413, f"{declared} bytes is over the limit of {store.max_bytes}")
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > store.max_bytes:
                raise HTTPException(413, f"over the limit of {store.max_bytes} bytes")
        try:
            store.put(bytes(body))
        except ContentTooLarge as exc:
            raise HTTPException(413, str(exc)) from exc
        blob = content_hash(bytes(body))
        base = public_url.rstrip("/") or str(request.base_url).rstrip("/")
        return {"hash": blob, "uri": f"{base}/blobs/{blob}"}

    @app.get("/blobs/{blob}")
    def get(blob: str, request: Request) -> Response:
        """The blob's bytes; a sealed envelope only for its recipient or sender (signed read headers)."""
        try:
            data = store.get(blob)
        except ContentUnavailable as exc:
            raise HTTPException(404, f"no blob {blob}") from exc
        except ContentError as exc:
            raise HTTPException(400, str(exc)) from exc
        try:
            envelope = SealedEnvelope.parse(data)
        except MalformedSeal:
            envelope = None  # a public blob (an evidence bundle the oracle nodes fetch)
        if envelope is not None:
            reader = _proven_reader(request, blob.lower())
            if reader not in (envelope.recipient, envelope.sender):
                raise HTTPException(
                    403, f"{reader} may not read this sealed blob: only {envelope.recipient} (recipient) may"
                )
        return Response(data, media_type="application/octet-stream")

    return app


def _proven_reader(request: Request, blob: str) -> str:
    """The address that signed this read request; 401 when the proof is missing, stale or wrong."""
    reader = request.headers.get(READER_HEADER)
    expires = request.headers.get(EXPIRES_HEADER, "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not reader or not expires.isdigit() or not signature:
        raise HTTPException(
            401, f"a sealed blob needs {READER_HEADER}, {EXPIRES_HEADER} and {SIGNATURE_HEADER}"
        )
    now = int(time.time())
    if not now <= int(expires) <= now + READ_PROOF_TTL:
        raise HTTPException(401, f"the read proof expires at {expires}; sign a fresh one (now is {now})")
    try:
        signer = Account.recover_message(
            read_proof_message(blob, int(expires)), signature=bytes.fromhex(signature.removeprefix("0x"))
        )
    except Exception as exc:  # eth_keys raises several types for a malformed signature
        raise HTTPException(401, f"the read signature is not valid: {exc}") from exc
    if signer.lower() != reader.lower():
        raise HTTPException(401, f"the read signature is by {signer}, not by {reader}")
    return str(signer)
