"""The CLI's own transactions, through the runtime's sender on the daemon's database (one nonce space):
dry run first (a refusal is one line), then sign, persist, send and wait for the receipt."""

import time
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector
from sqlalchemy import select

from runtime.sender import Call, Claim
from runtime.tables import transactions

from .errors import Refused
from .refusals import refusal
from .wiring import Parts

RECEIPT_TIMEOUT = 120.0  # seconds the CLI waits for its transaction to be mined
POLL = 0.2  # seconds between two looks at the receipt
GAS_MARGIN = 50_000


def send(
    p: Parts, to: str, data: bytes, purpose: Any, claim: Claim[Any] | None = None, dispute: Any = ""
) -> str:
    """Sends one call after a passing dry run; returns its hash once mined. Refused on any refusal."""
    answer = p.chain.dry_runs(p.sender.address, to, [data], _errors())[0]
    if not isinstance(answer, int):
        raise Refused(refusal(answer, dispute))
    p.sender.start(p.chain.chain_id())
    sent = p.sender.send([Call(to, data, answer + GAS_MARGIN, purpose, time.time())], p.chain.head(), claim)
    if not sent:
        raise Refused("already sent: another process (the daemon?) holds this step; see `arbitrator cases`")
    tracker, deadline = p.tracker(), time.monotonic() + RECEIPT_TIMEOUT
    while time.monotonic() < deadline:
        tracker.tick(p.chain.head())
        # The row, not the tick's report: the daemon sharing the database may record the receipt first.
        with p.engine.connect() as db:
            row = db.execute(
                select(transactions.c.state, transactions.c.succeeded, transactions.c.tx_hash).where(
                    transactions.c.nonce == sent[0].nonce
                )
            ).one()
        if row.state == "replaced":
            raise Refused(
                f"nonce {sent[0].nonce} was used by a transaction this key's processes did not sign: "
                "another wallet sends from this key; nothing else was sent, see `arbitrator cases`"
            )
        if row.state in ("mined", "confirmed"):
            if not row.succeeded:
                raise Refused(
                    f"the transaction {row.tx_hash} reverted: the chain changed after the dry run "
                    "(a phase ended, someone acted first); nothing else was sent, see `arbitrator cases`"
                )
            return str(row.tx_hash)
        time.sleep(POLL)  # the interval between receipt polls
    raise Refused(f"not mined after {RECEIPT_TIMEOUT:.0f}s: {sent[0].tx_hash}; the daemon keeps following it")


def allowance(p: Parts, token: str, spender: str) -> int:
    """The pool's allowance on the arbitrator's tokens."""
    data = function_signature_to_4byte_selector("allowance(address,address)") + encode(
        ["address", "address"], [p.sender.address, spender]
    )
    return int(decode(["uint256"], p.chain.call(token, data))[0])


def balance(p: Parts, token: str) -> int:
    """The arbitrator's token balance."""
    data = function_signature_to_4byte_selector("balanceOf(address)") + encode(
        ["address"], [p.sender.address]
    )
    return int(decode(["uint256"], p.chain.call(token, data))[0])


def approve_call(spender: str, amount: int) -> bytes:
    """Calldata of ERC-20 approve."""
    return function_signature_to_4byte_selector("approve(address,uint256)") + encode(
        ["address", "uint256"], [spender, amount]
    )


def _errors() -> dict[str, str]:
    from .pool import ERRORS

    return ERRORS
