"""Dispute statements: a party's words for the panel, kept by the desk and put in the case files.

A statement is stored sealed to the desk itself (its X25519 key is derived from the agent key), so the
team's content store serves it to nobody else; the chain names it only by that envelope's URI, which
ends in the envelope's hash and so commits to the words without publishing them. The desk opens it
again for each case file it seals to a drawn arbitrator.
"""

import json
import time
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from nacl.public import PrivateKey
from pydantic import BaseModel
from sqlalchemy import Engine, func, select, update

from protocol_core.content import ContentClient, ContentError, content_hash
from protocol_core.context import canonical_json
from protocol_core.sealing import SealError, open_sealed, seal
from runtime.db import transaction

from .errors import InvalidRequest, NotAllowedNow, StoreUnavailable
from .tables import jobs, statements

DESK_KEY_TAG = b"escalation desk x25519/1"  # the desk's own X25519 key: keccak(tag || agent key)
MAX_STATEMENT = 4_000  # characters of one statement
MAX_PER_AUTHOR = 10  # statements one party may add to one job's dispute


class StoredStatement(BaseModel):
    """Where the desk stored a statement: name it on chain with `submitDisputeEvidence(job, uri)`."""

    uri: str  # content-addressed: it ends in `statement_hash`
    statement_hash: str  # keccak of the sealed envelope the store holds


def desk_key(agent: LocalAccount) -> PrivateKey:
    """The X25519 key the desk seals its own records to, derived from the agent key."""
    return PrivateKey(keccak(DESK_KEY_TAG + bytes(agent.key)))


class Statements:
    """Stores the parties' statements of a job and reads them back for its case files."""

    def __init__(
        self, engine: Engine, store: ContentClient, agent: LocalAccount, chain_id: int, escrow: str
    ) -> None:
        self.engine, self.store, self.agent = engine, store, agent
        self.chain_id, self.escrow, self._key = chain_id, escrow, desk_key(agent)

    def add(self, desk_id: str, job_id: str, author: str, text: str) -> StoredStatement:
        """Seals and stores `author`'s statement, and marks the job so its case files are sealed again."""
        if not text.strip() or len(text) > MAX_STATEMENT:
            raise InvalidRequest(f"a statement is 1 to {MAX_STATEMENT:,} characters, not {len(text):,}")
        with self.engine.connect() as db:
            made = db.execute(
                select(func.count()).select_from(statements)
                .where(statements.c.desk_id == desk_id).where(statements.c.author == author.lower())
            ).scalar_one()  # fmt: skip
        if made >= MAX_PER_AUTHOR:
            raise NotAllowedNow(f"{author} has made {made} statements on {job_id}, the most one party may")
        now = time.time()
        payload = canonical_json({"job_id": job_id, "author": author.lower(), "text": text, "at": int(now)})
        envelope = seal(
            payload, kind="evidence", signer=self.agent, sender=self.agent.address,
            recipient=self.agent.address, recipient_key=bytes(self._key.public_key), chain_id=self.chain_id,
            escrow=self.escrow,
        ).canonical()  # fmt: skip
        try:
            uri = self.store.put(envelope)
        except ContentError as exc:
            raise StoreUnavailable(f"cannot store the statement: {exc}; nothing was lost, try again") from exc
        with transaction(self.engine) as db:
            db.execute(statements.insert().values(desk_id=desk_id, author=author.lower(), uri=uri,
                                                  blob=content_hash(envelope), created_at=now))  # fmt: skip
            db.execute(update(jobs).where(jobs.c.desk_id == desk_id).values(dirty=True))  # re-seal the cases
        return StoredStatement(uri=uri, statement_hash=content_hash(envelope))

    def count(self, desk_id: str) -> int:
        """How many statements the job's dispute has."""
        with self.engine.connect() as db:
            query = select(func.count()).select_from(statements).where(statements.c.desk_id == desk_id)
            return int(db.execute(query).scalar_one())

    def for_case(self, desk_id: str) -> list[dict[str, Any]]:
        """Every statement of the job, oldest first, opened; one that cannot be read says why."""
        with self.engine.connect() as db:
            rows = db.execute(
                select(statements).where(statements.c.desk_id == desk_id).order_by(statements.c.id)
            ).all()
        found = []
        for row in rows:
            item: dict[str, Any] = {"author": row.author, "uri": row.uri}
            try:
                opened = open_sealed(
                    self.store.get(row.uri, row.blob), self._key, expected_sender=self.agent.address,
                    kind="evidence",
                )  # fmt: skip
                item.update(json.loads(opened))
            except (ContentError, SealError) as exc:
                item["error"] = f"the desk could not read this statement back: {exc}"
            found.append(item)
        return found
