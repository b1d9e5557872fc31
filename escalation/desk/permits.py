"""Permit nonces of the agent's posts: the next one no post in flight uses, taken only with the signed
bytes of a post, and given back when a post reverts (its permit nonce was never used on chain)."""

from sqlalchemy import Connection, Engine, delete, select, update

from .contracts import DeskContracts
from .tables import permits


def next_permit_nonce(engine: Engine, contracts: DeskContracts, agent: str) -> int:
    """The token's nonce for `agent`, or past it when posts in flight hold the next ones."""
    chain_nonce = int(contracts.token_view("nonces", agent))
    with engine.connect() as db:
        taken = db.execute(select(permits.c.next_nonce)).scalar()
    return max(chain_nonce, int(taken or 0))


def take_permit_nonce(db: Connection, nonce: int) -> None:
    """Records, in the post's own transaction, that a post in flight uses permit nonce `nonce`."""
    if db.execute(select(permits.c.next_nonce)).first() is None:
        db.execute(permits.insert().values(id=1, next_nonce=nonce + 1))
    else:
        db.execute(update(permits).values(next_nonce=nonce + 1))


def release_permit_nonces(db: Connection) -> None:
    """A post reverted: its nonce is unused on chain, so the next post starts again from the chain's
    (any later post in flight signed past it reverts as well, and is marked failed the same way)."""
    db.execute(delete(permits))
