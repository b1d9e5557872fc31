"""Pure parts of the relayed flow: the leaders of a job in turn, rate limits, handed-in records."""

import os

import pytest
from eth_account import Account
from eth_utils import keccak

from oracle_node.operators import succession, turn_at
from oracle_node.rate_limits import Buckets, Rate
from protocol_core.eip712 import InvalidSignature
from protocol_core.handoff import IntakeRequest, compact_hex
from protocol_core.relayed import sign_evidence
from protocol_core.terms import JobTerms, Requirements

OPERATORS = [str(Account.create().address) for _ in range(5)]


def test_succession_is_the_same_whatever_order_the_set_is_read_in():
    job = "0x" + os.urandom(32).hex()
    assert succession(job, OPERATORS) == succession(job, list(reversed(OPERATORS)))
    assert sorted(succession(job, OPERATORS)) == sorted(OPERATORS)


def test_leadership_spreads_over_the_operators():
    leaders = {succession("0x" + keccak(str(i).encode()).hex(), OPERATORS)[0] for i in range(200)}
    assert leaders == set(OPERATORS)


def test_each_operator_gets_its_turn_one_takeover_delay_after_the_one_before():
    job = "0x" + os.urandom(32).hex()
    order = succession(job, OPERATORS)
    assert [turn_at(job, OPERATORS, op, 100.0, 2.0) for op in order] == [100.0, 102.0, 104.0, 106.0, 108.0]
    assert turn_at(job, OPERATORS, str(Account.create().address), 100.0, 2.0) is None


def test_bucket_allows_its_burst_then_asks_to_wait_until_refilled():
    now = [0.0]
    buckets = Buckets(Rate(per_second=2.0, burst=3), clock=lambda: now[0])
    assert [buckets.take("w") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("w") == pytest.approx(0.5)
    assert buckets.take("other") == 0.0  # keys are independent
    now[0] = 0.5
    assert buckets.take("w") == 0.0


def test_handed_in_evidence_recovers_its_worker_only_on_its_own_chain_and_escrow():
    worker = Account.create()
    escrow = str(Account.create().address)
    terms = JobTerms(
        agent=escrow, reward=1, oracle_fee=0, protocol_fee=0, accept_by=1, resolve_by=2,
        spec_hash=keccak(b"spec"), requirements=Requirements(language=0),
    )  # fmt: skip
    signed = sign_evidence(bytes(worker.key), chain_id=31337, escrow=escrow, job_id=terms.digest(),
                           evidence_hash=keccak(b"bundle"), uri="https://x/b", deadline=10**10)  # fmt: skip
    request = IntakeRequest.model_validate_json(
        IntakeRequest(
            terms=terms, evidence_hash="0x" + keccak(b"bundle").hex(), uri=signed.uri, worker=worker.address,
            deadline=signed.deadline, signature=compact_hex(signed.signature),
        ).model_dump_json()
    )  # fmt: skip
    assert request.evidence_signer(chain_id=31337, escrow=escrow) == worker.address
    assert request.evidence_signer(chain_id=137, escrow=escrow) != worker.address
    with pytest.raises(InvalidSignature):
        request.model_copy(update={"signature": "0x" + "00" * 64}).evidence_signer(chain_id=1, escrow=escrow)
