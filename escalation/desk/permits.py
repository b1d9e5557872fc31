"""How the agent's posts are funded: plainly from the allowance an earlier permit left, or with a permit for
more than the post (bounded by the spend policy), so one permit's gas is shared by the posts it covers.

Two records, both written with the signed bytes of a post: the next permit nonce no post in flight uses
(given back when a post reverts: its permit nonce was never used on chain), and the allowance the escrow
will hold once every signed post is mined. A permit sets the allowance outright and the agent's
transactions are mined in nonce order, so that allowance is known exactly from what the desk signed;
whenever it is not (a post reverted, a dispute or appeal pulled from it), it is forgotten, and the next
post carries a permit again.
"""

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from sqlalchemy import Connection, Engine, delete, func, select, update

from protocol_core.eip712 import Permit, sign_permit

from .contracts import DeskContracts
from .errors import WouldRevert
from .tables import allowance, calls, permits

MAX_TRACKED = 2**63 - 1  # the largest allowance the desk_allowance column holds


@dataclass(frozen=True)
class Funding:
    """How one post pays: plainly (no nonce) or with a permit for `value` at `nonce`."""

    nonce: int | None  # the permit's nonce; None: a plain post from the allowance left
    value: int  # what the permit lets the escrow pull; 0 for a plain post
    left: int  # the allowance left once this post is mined


def plan_funding(
    engine: Engine, contracts: DeskContracts, agent: str, total: int, permit_value: int
) -> Funding:
    """A plain post when the allowance left after the posts in flight covers `total` (and the chain's
    allowance already does, so the dry run passes); else a permit for `permit_value` (at least `total`)."""
    with engine.connect() as db:
        left = db.execute(select(allowance.c.left)).scalar()
        unmined = db.execute(
            select(func.count()).select_from(calls).where(calls.c.succeeded.is_(None))
        ).scalar()
    on_chain = int(contracts.token_view("allowance", agent, contracts.escrow.address))
    if left is None and not unmined:  # nothing in flight: the chain's allowance is the whole story
        left = on_chain
    if left is not None and min(left, on_chain) >= total:
        return Funding(None, 0, left - total)
    value = max(total, permit_value)
    return Funding(next_permit_nonce(engine, contracts, agent), value, value - total)


def take_funding(db: Connection, funding: Funding) -> None:
    """Records, in the post's own transaction, the permit nonce it uses and the allowance it leaves."""
    _set_allowance(db, funding.left)
    if funding.nonce is None:
        return
    if db.execute(select(permits.c.next_nonce)).first() is None:
        db.execute(permits.insert().values(id=1, next_nonce=funding.nonce + 1))
    else:
        db.execute(update(permits).values(next_nonce=funding.nonce + 1))


def sign_post_permit(
    contracts: DeskContracts,
    agent: LocalAccount,
    chain_id: int,
    version: str,
    funding: Funding,
    deadline: int,
) -> Permit:
    """The agent's EIP-2612 permit letting the escrow pull `funding.value`, valid until `deadline`."""
    assert funding.nonce is not None, "a plain post carries no permit"
    return sign_permit(
        agent.key, token_name=contracts.token_view("name"), chain_id=chain_id, token=contracts.token.address,
        owner=agent.address, spender=contracts.escrow.address, value=funding.value, nonce=funding.nonce,
        deadline=deadline, version=version,
    )  # fmt: skip


def refused_permit(error: WouldRevert, funding: Funding | None, version: str) -> WouldRevert:
    """`error`, saying what to check when the post carried a permit and the allowance stayed short."""
    if funding is None or funding.nonce is None or "Allowance" not in str(error):
        return WouldRevert(str(error))
    return WouldRevert(
        f"{error}: the token refused the desk's permit; check permit_version ({version!r}; Circle's USDC "
        "on Polygon: '2') and that the agent key holds the USDC"
    )


def next_permit_nonce(engine: Engine, contracts: DeskContracts, agent: str) -> int:
    """The token's nonce for `agent`, or past it when posts in flight hold the next ones."""
    chain_nonce = int(contracts.token_view("nonces", agent))
    with engine.connect() as db:
        taken = db.execute(select(permits.c.next_nonce)).scalar()
    return max(chain_nonce, int(taken or 0))


def forget_allowance(db: Connection) -> None:
    """Something else pulls from the allowance (a dispute, an appeal): the next post carries a permit."""
    db.execute(delete(allowance))


def release_permit_nonces(db: Connection) -> None:
    """A post reverted: its nonce is unused on chain, so the next post starts again from the chain's
    (any later post in flight signed past it reverts as well, and is marked failed the same way), and
    the allowance it counted on is not known any more."""
    db.execute(delete(permits))
    forget_allowance(db)


def _set_allowance(db: Connection, left: int) -> None:
    # A standing allowance may be unlimited (2**256 - 1, an approve of "everything"); the column is a
    # 64-bit integer. Counting at most 2**63 - 1 (9.2 trillion USDC) only ever understates it.
    left = min(left, MAX_TRACKED)
    if db.execute(select(allowance.c.id)).first() is None:
        db.execute(allowance.insert().values(id=1, left=left))
    else:
        db.execute(update(allowance).values(left=left))
