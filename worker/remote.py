"""The worker's calls to others: the desk (relays, the sealed context's place, the customer's
confirmation, offers) and the oracle nodes' evidence intake. Every failure is said plainly."""

from typing import Any

import httpx

from protocol_core.content import read_headers, worker_headers
from protocol_core.handoff import compact_hex
from protocol_core.relayed import SignedAcceptance, SignedRegistration

from .errors import DeskUnavailable, Refused
from .wallet import Keys


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        detail = body.get("detail", body.get("error", body))
        if isinstance(detail, list):  # FastAPI's validation errors
            return "; ".join(str(item.get("msg", item)) for item in detail)
        return str(detail)
    return str(body)


class DeskClient:
    """The desk's worker door and its relayed acceptance."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(timeout=timeout)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, self.url + path, **kwargs)
        except httpx.TransportError as error:
            raise DeskUnavailable(
                detail="refusal.desk_silent", url=self.url, kind=type(error).__name__
            ) from error
        if response.status_code >= 500:
            raise DeskUnavailable(
                detail="refusal.desk_trouble",
                url=self.url,
                code=response.status_code,
                reason=_detail(response),
            )
        if response.status_code >= 400:
            raise Refused(detail="refusal.desk_refused", reason=_detail(response))
        return response.json()

    def accept(self, acceptance: SignedAcceptance) -> dict[str, Any]:
        """Relays the signed acceptance; the desk sends `acceptJobFor`."""
        body = {"worker": acceptance.worker, "deadline": acceptance.deadline,
                "signature": compact_hex(acceptance.signature)}  # fmt: skip
        return dict(self._call("POST", f"/v1/jobs/0x{acceptance.job_id.hex()}/accept", json=body))

    def register(self, signed: SignedRegistration) -> dict[str, Any]:
        """Relays the signed profile; the desk sends `registerFor`."""
        body = {
            "worker": signed.worker, "languages": signed.languages, "expertise": signed.expertise,
            "max_concurrent": signed.max_concurrent, "encryption_key": "0x" + signed.encryption_key.hex(),
            "profile_uri": signed.profile_uri, "deadline": signed.deadline,
            "signature": compact_hex(signed.signature),
        }  # fmt: skip
        return dict(self._call("POST", "/v1/worker/registrations", json=body))

    def availability(self, worker: str, available: bool, deadline: int, signature: Any) -> dict[str, Any]:
        """Relays the signed availability switch."""
        body = {"worker": worker, "available": available, "deadline": deadline,
                "signature": compact_hex(signature)}  # fmt: skip
        return dict(self._call("POST", "/v1/worker/availability", json=body))

    def handoff(self, keys: Keys, job_id: str) -> dict[str, Any]:
        """The desk's `WorkerHandoff`: where the job's sealed context is (`context`), and the customer's
        confirmation once the helpdesk gave it."""
        headers = worker_headers(keys.account, job_id)
        return dict(self._call("GET", f"/v1/jobs/{job_id.lower()}/handoff", headers=headers))

    def store_evidence(self, keys: Keys, job_id: str, bundle: bytes) -> str:
        """Stores the evidence bundle in the desk's content store (where the nodes and arbitrators fetch
        it); its URI."""
        headers = worker_headers(keys.account, job_id) | {"Content-Type": "application/json"}
        answer = self._call("POST", f"/v1/jobs/{job_id.lower()}/evidence", content=bundle, headers=headers)
        return str(answer["uri"])

    def store_statement(self, keys: Keys, job_id: str, text: str) -> str:
        """Hands a dispute statement to the desk, which keeps it sealed and puts it in the panel's case
        files; its URI (content-addressed: it names the statement without publishing it)."""
        headers = worker_headers(keys.account, job_id)
        path = f"/v1/jobs/{job_id.lower()}/statements"
        answer = self._call("POST", path, json={"text": text}, headers=headers)
        return str(answer["uri"])

    def offers(self, keys: Keys) -> list[dict[str, Any]]:
        """The desk's offers to this worker that wait for an answer."""
        headers = read_headers(keys.account, keys.address.lower())
        return list(self._call("GET", f"/v1/worker/offers/{keys.address.lower()}", headers=headers))


def hand_in(urls: list[str], request: dict[str, Any], timeout: float = 10.0) -> list[dict[str, Any]]:
    """POSTs the signed evidence to every oracle node; one receipt (or refusal) per node."""
    receipts = []
    for url in urls:
        try:
            response = httpx.post(f"{url.rstrip('/')}/v1/evidence", json=request, timeout=timeout)
        except httpx.TransportError as error:
            receipts.append({"node": url, "ok": False, "detail": f"unreachable ({type(error).__name__})"})
            continue
        ok = response.status_code == 202
        receipts.append(
            {"node": url, "ok": ok, "detail": response.json().get("status") if ok else _detail(response)}
        )
    return receipts
