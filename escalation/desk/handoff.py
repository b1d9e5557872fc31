"""Handing a job's context over sealed: to the worker who accepted it, and to each drawn arbitrator.

An arbitrator's case file holds the context, the customer's confirmation, the worker's evidence bundle
(fetched from the desk's store and checked against the hash the escrow logged) and the parties'
statements; a statement added later seals every case file again. A reader's X25519 key is the one
registered in the WorkerRegistry for its address (workers register it; an arbitrator who wants to read
case files registers one there too: the pool keeps no keys). Each sealed copy is stored once and
recorded, so a handoff is never repeated (a case file is sealed again only for a new statement).
"""

import json
import logging
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import Connection, Engine, func, select

from protocol_core.case_index import case_index_uri
from protocol_core.content import ContentClient, ContentError, content_hash
from protocol_core.context import canonical_json
from protocol_core.sealing import Kind, SealError, seal
from runtime.db import transaction
from runtime.sender import Call, Sender

from .contracts import DeskContracts
from .errors import DeskError
from .statements import Statements
from .tables import calls, jobs, published, seals

log = logging.getLogger(__name__)
MAX_ROUNDS = 8  # rounds of a dispute looked at for panels (the pool allows at most 4)


class Handoff:
    """Seals and stores the context for each reader of a job, once."""

    def __init__(
        self,
        engine: Engine,
        contracts: DeskContracts,
        store: ContentClient,
        agent: LocalAccount,
        chain_id: int,
        statements: Statements,
    ) -> None:
        self.engine, self.contracts, self.store = engine, contracts, store
        self.agent, self.chain_id, self.statements = agent, chain_id, statements

    def to_worker(self, desk_id: str, worker: str) -> None:
        """The job's context sealed to `worker`, unless it has it already."""
        if not self._has(desk_id, worker):
            self._seal(desk_id, worker, "worker", "context", self._context(desk_id))

    def to_panel(self, desk_id: str, dispute_id: int) -> int:
        """The case file sealed to every drawn arbitrator who has none with every statement made so far."""
        sealed, made, case = 0, self.statements.count(desk_id), b""
        for round_index in range(MAX_ROUNDS):
            try:
                panel = self.contracts.pool.round_of(dispute_id, round_index).panel
            except Exception:  # the pool reverts past the last round
                break
            for arbitrator in panel:
                if not self._has_case(desk_id, arbitrator, made):
                    case = case or self.case_file(desk_id)
                    self._seal(desk_id, arbitrator, "arbitrator", "case", case, made)
                    sealed += 1
        return sealed

    def publish(self, desk_id: str, sender: Sender, head: int) -> bool:
        """Names the case files not yet named in one dispute evidence (ERC-1497), so each drawn
        arbitrator finds its own from the chain; the rows are claimed with the transaction's nonce."""
        with self.engine.connect() as db:
            new = db.execute(
                select(seals.c.id, seals.c.reader, seals.c.uri)
                .where(seals.c.desk_id == desk_id).where(seals.c.role == "arbitrator")
                .where(seals.c.id.not_in(select(published.c.seal_id)))
            ).all()  # fmt: skip
        if not new:
            return False
        job_id = bytes.fromhex(self._row(desk_id).job_id[2:])
        index = case_index_uri({r.reader: r.uri for r in new})
        call = self.contracts.escrow.submit_dispute_evidence(job_id, index)
        (gas,) = self.contracts.chain.dry_runs(sender.address, call.to, [call.data], {})
        if isinstance(gas, str):
            raise DeskError(f"the escrow refuses the case files' evidence for {desk_id}: {gas}")

        def claim(db: Connection, purpose: tuple[str, str], nonce: int) -> bool:
            ids = [r.id for r in new]
            if db.execute(select(published.c.seal_id).where(published.c.seal_id.in_(ids))).first():
                return False  # named by another pass already
            db.execute(published.insert(), [{"seal_id": r.id, "nonce": nonce} for r in new])
            db.execute(calls.insert().values(nonce=nonce, desk_id=desk_id, action="case_files"))
            return True

        sent = sender.send([Call(call.to, call.data, int(gas * 1.25), (desk_id, "case_files"))], head, claim)
        return bool(sent)

    def case_file(self, desk_id: str) -> bytes:
        """The case file's canonical bytes: context, confirmation, evidence and statements."""
        row = self._row(desk_id)
        case = {
            "job_id": row.job_id,
            "context": json.loads(row.context),
            "confirmation": json.loads(row.confirmation) if row.confirmation else None,
            "evidence": self._evidence(row),
            "statements": self.statements.for_case(desk_id),
        }
        return canonical_json(case)

    def _seal(
        self, desk_id: str, reader: str, role: str, kind: Kind, payload: bytes, statements: int | None = None
    ) -> None:
        key = self.contracts.registry.encryption_key(reader)
        try:
            envelope = seal(
                payload, kind=kind, signer=self.agent, sender=self.agent.address, recipient=reader,
                recipient_key=key, chain_id=self.chain_id, escrow=self.contracts.escrow.address,
            )  # fmt: skip
            blob = envelope.canonical()
            uri = self.store.put(blob)
        except SealError as error:
            raise DeskError(f"cannot seal {desk_id} to {role} {reader}: {error}") from error
        except ContentError as error:
            raise DeskError(f"cannot store the sealed context of {desk_id}: {error}") from error
        with transaction(self.engine) as db:
            db.execute(seals.insert().values(desk_id=desk_id, reader=reader, role=role, uri=uri,
                                             blob=content_hash(blob), statements=statements))  # fmt: skip
        log.info("sealed %s of %s to %s %s", kind, desk_id, role, reader)

    def _has(self, desk_id: str, reader: str) -> bool:
        with self.engine.connect() as db:
            found = db.execute(
                select(seals.c.id).where(seals.c.desk_id == desk_id).where(seals.c.reader == reader)
            ).first()
        return found is not None

    def _has_case(self, desk_id: str, reader: str, made: int) -> bool:
        """Whether `reader` has a case file of the job holding `made` statements (or more)."""
        with self.engine.connect() as db:
            found = db.execute(
                select(seals.c.id).where(seals.c.desk_id == desk_id).where(seals.c.reader == reader)
                .where(func.coalesce(seals.c.statements, 0) >= made)
            ).first()  # fmt: skip
        return found is not None

    def _row(self, desk_id: str) -> Any:
        with self.engine.connect() as db:
            return db.execute(select(jobs).where(jobs.c.desk_id == desk_id)).one()

    def _context(self, desk_id: str) -> bytes:
        return bytes(self._row(desk_id).context)

    def _evidence(self, row: Any) -> dict[str, Any] | None:
        """The worker's evidence as the escrow logged it, with the bundle when the desk's store has it;
        what went wrong otherwise (the case file is sealed either way: the panel sees the hash)."""
        if row.evidence_hash is None:
            return None
        found: dict[str, Any] = {"hash": row.evidence_hash, "uri": row.evidence_uri}
        if not self.store.holds(row.evidence_uri):
            found["error"] = "the bundle is not in the desk's content store: fetch it from its URI, check it"
            return found
        try:
            found["bundle"] = json.loads(self.store.get(row.evidence_uri, row.evidence_hash))
        except ContentError as error:
            found["error"] = f"the desk could not fetch the bundle: {error}"
        except ValueError:
            found["error"] = "the bytes at the URI match the hash but are not a JSON evidence bundle"
        return found
