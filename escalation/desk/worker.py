"""The SDK's worker half: take one of a desk's jobs by signature, open its sealed context, build the
evidence from the customer's confirmation and hand it to an oracle node. The worker holds its keys
(its Ethereum key and its X25519 key) and never needs POL: the desk and the nodes send.
"""

import time
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from nacl.public import PrivateKey

from protocol_core.content import ContentClient, worker_headers
from protocol_core.context import ContextBundle
from protocol_core.evidence import EvidenceBundle, Outcome
from protocol_core.handoff import IntakeRequest, compact_hex
from protocol_core.relayed import sign_acceptance, sign_evidence
from protocol_core.sealing import open_context

from .errors import DeskError, NotAllowedNow
from .relay import AcceptanceReceipt
from .sdk import DeskClient
from .statements import StoredStatement
from .worker_door import StoredEvidence, WorkerHandoff

VALID_FOR = 600  # seconds a signed acceptance or evidence stays valid by default


class NodeRefused(DeskError):
    """An oracle node refused the evidence; the message carries its reason code and detail."""


class DeskWorker:
    """One worker's client of one desk (and the oracle nodes of its chain)."""

    def __init__(
        self,
        desk_url: str,
        account: LocalAccount,
        x25519: PrivateKey,
        *,
        chain_id: int,
        escrow: str,
        store: ContentClient | None = None,  # reads sealed blobs; default: HTTP(S) or IPFS as the worker
        timeout: float = 30.0,
    ) -> None:
        self.account, self._x25519 = account, x25519
        self.chain_id, self.escrow = chain_id, to_checksum_address(escrow)
        self._store = store or ContentClient(reader=account)
        self._desk = DeskClient(desk_url, api_key="", timeout=timeout)  # the worker door needs no API key
        self._http = httpx.Client(timeout=timeout)

    @property
    def address(self) -> str:
        """The worker's address."""
        return str(self.account.address)

    def accept(self, job_id: str, deadline: int | None = None) -> AcceptanceReceipt:
        """Signs the acceptance of `job_id` and has the desk relay it (the desk pays the gas)."""
        signed = sign_acceptance(
            self.account.key, chain_id=self.chain_id, escrow=self.escrow, job_id=_bytes32(job_id),
            worker=self.address, deadline=deadline or int(time.time()) + VALID_FOR,
        )  # fmt: skip
        signature = compact_hex(signed.signature)
        body = {"worker": self.address, "deadline": signed.deadline, "signature": signature}
        answer = self._desk._call("POST", f"/v1/jobs/{job_id}/accept", json=body)
        return AcceptanceReceipt.model_validate(answer)

    def handoff(self, job_id: str) -> WorkerHandoff:
        """What the desk holds for this worker on `job_id`: terms, sealed copy, confirmation."""
        answer = self._desk._call("GET", f"/v1/jobs/{job_id}/handoff", headers=self._proof(job_id))
        return WorkerHandoff.model_validate(answer)

    def context(self, job_id: str) -> ContextBundle:
        """The job's context: fetched, its signature, hash and spec hash checked, and opened."""
        handoff = self.handoff(job_id)
        if handoff.context is None:
            raise NotAllowedNow(
                f"the desk has not sealed the context of {job_id} to you yet (the job is {handoff.status}): "
                "ask again in a moment"
            )
        sealed = self._store.get(handoff.context.uri, handoff.context.blob)
        terms = handoff.terms
        return open_context(sealed, self._x25519, agent=terms.agent, spec_hash=terms.spec_hash)

    def evidence(self, job_id: str, summary: str, deadline: int | None = None) -> IntakeRequest:
        """The signed evidence for `job_id`: the bundle made from the desk's confirmation, stored at the
        desk, and signed by the worker, ready for an oracle node's intake."""
        handoff = self.handoff(job_id)
        confirmation = handoff.confirmation
        if confirmation is None:
            raise NotAllowedNow(
                f"the customer has not confirmed {job_id} yet: the desk signs the confirmation when the "
                "helpdesk reports it; ask again later"
            )
        bundle = EvidenceBundle(
            version=1, chain_id=self.chain_id, escrow=self.escrow, job_id=handoff.job_id,
            ticket_ref=str(confirmation["ticket_ref"]), outcome=Outcome(int(confirmation["outcome"])),
            confirmed_at=int(confirmation["confirmed_at"]), summary=summary,
            confirmation=str(confirmation["confirmation"]),
        )  # fmt: skip
        raw = bundle.canonical()
        stored = StoredEvidence.model_validate(
            self._desk._call("POST", f"/v1/jobs/{job_id}/evidence", content=raw, headers=self._proof(job_id))
        )
        signed = sign_evidence(
            self.account.key, chain_id=self.chain_id, escrow=self.escrow, job_id=_bytes32(job_id),
            evidence_hash=keccak(raw), uri=stored.uri, deadline=deadline or int(time.time()) + VALID_FOR,
        )  # fmt: skip
        return IntakeRequest(
            terms=handoff.terms, evidence_hash=stored.evidence_hash, uri=stored.uri, worker=self.address,
            deadline=signed.deadline, signature=compact_hex(signed.signature), bundle=raw.decode(),
        )  # fmt: skip

    def statement(self, job_id: str, text: str) -> StoredStatement:
        """Hands a dispute statement to the desk for the panel's case files; name its URI on chain with
        `submitDisputeEvidence` (the worker's own transaction)."""
        answer = self._desk._call("POST", f"/v1/jobs/{job_id}/statements", json={"text": text},
                                  headers=self._proof(job_id))  # fmt: skip
        return StoredStatement.model_validate(answer)

    def hand_in(self, node_url: str, request: IntakeRequest) -> dict[str, Any]:
        """POSTs the evidence to an oracle node's intake; NodeRefused with the node's reason when refused."""
        url = f"{node_url.rstrip('/')}/v1/evidence"
        try:
            response = self._http.post(url, json=request.model_dump(mode="json"))
        except httpx.TransportError as error:
            raise NodeRefused(f"cannot reach the oracle node at {url}: {error}; try another node") from error
        answer: dict[str, Any] = response.json()
        if response.status_code >= 300:
            raise NodeRefused(
                f"the oracle node at {url} refused the evidence ({response.status_code} "
                f"{answer.get('error')}): {answer.get('detail')}"
            )
        return answer

    def _proof(self, job_id: str) -> dict[str, str]:
        return worker_headers(self.account, job_id)

    def close(self) -> None:
        """Closes the connections."""
        self._desk.close()
        self._http.close()
        self._store.close()


def _bytes32(job_id: str) -> bytes:
    raw = bytes.fromhex(job_id.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError(f"{job_id!r} is not a job id (0x + 64 hex)")
    return raw
