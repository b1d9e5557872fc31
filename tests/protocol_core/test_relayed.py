"""The SDK's relayed calls: a worker signs with protocol_core, a relayer sends the bindings' calls."""

import pytest
from eth_account import Account
from eth_utils import keccak

from protocol_core.bindings import Escrow, Oracle, Registry
from protocol_core.eip712 import (
    SECP256K1_HALF_N,
    InvalidSignature,
    acceptance_message,
    recover_compact,
    sign_attestation,
)
from protocol_core.enums import JobStatus
from protocol_core.relayed import sign_acceptance, sign_availability, sign_evidence, sign_registration

KEY = "0x" + "42" * 32
WORKER = Account.from_key(KEY).address


def send(w3, call, sender):
    tx_hash = w3.eth.send_transaction({"from": str(sender.address), "to": call.to, "data": call.data})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1, f"{call.function} reverted"
    return receipt


def test_signed_acceptance_recovers_its_worker_only_under_its_own_domain():
    signed = sign_acceptance(
        KEY, chain_id=31337, escrow="0x" + "11" * 20, job_id=keccak(b"j"), worker=WORKER, deadline=9
    )

    assert signed.signer(chain_id=31337, escrow="0x" + "11" * 20) == WORKER
    assert signed.signer(chain_id=137, escrow="0x" + "11" * 20) != WORKER
    assert signed.signer(chain_id=31337, escrow="0x" + "22" * 20) != WORKER


def test_signed_evidence_recovers_its_worker_only_for_its_job():
    fields = dict(chain_id=1, escrow="0x" + "11" * 20, evidence_hash=keccak(b"e"), uri="ipfs://e", deadline=9)
    signed = sign_evidence(KEY, job_id=keccak(b"a"), **fields)

    assert signed.signer(chain_id=1, escrow=fields["escrow"], job_id=keccak(b"a")) == WORKER
    assert signed.signer(chain_id=1, escrow=fields["escrow"], job_id=keccak(b"b")) != WORKER


@pytest.mark.parametrize(
    "signature",
    [
        [b"\x01" * 32],
        [b"\x01" * 32, b"\x02" * 31],
        [b"\x01" * 32, (SECP256K1_HALF_N + 1).to_bytes(32, "big")],
    ],
)
def test_recover_compact_refuses_malformed_and_high_s_signatures(signature):
    message = acceptance_message(
        chain_id=1, escrow="0x" + "11" * 20, job_id=keccak(b"j"), worker=WORKER, deadline=9
    )

    with pytest.raises(InvalidSignature):
        recover_compact(message, signature)


def test_relayer_registers_hires_and_pays_a_worker_through_the_bindings(
    chain, system, accounts, make_terms, agent, operators, stranger, usdc
):
    w3 = chain.provider.web3
    escrow = Escrow(w3, str(system.escrow.address))
    oracle = Oracle(w3, str(system.oracle.address))
    registry = Registry(w3, str(system.registry.address))
    deadline = chain.pending_timestamp + 600
    domain = dict(chain_id=chain.chain_id)

    registration = sign_registration(
        KEY,
        **domain,
        registry=registry.address,
        worker=WORKER,
        languages=1,
        expertise=1,
        max_concurrent=1,
        encryption_key=keccak(b"x25519"),
        profile_uri="ipfs://p",
        nonce=registry.nonce(WORKER),
        deadline=deadline,
    )
    send(w3, registry.register_for(registration), stranger)
    assert registry.profile(WORKER).max_concurrent == 1 and registry.nonce(WORKER) == 1

    off = sign_availability(
        KEY, **domain, registry=registry.address, worker=WORKER, available=False, nonce=1, deadline=deadline
    )
    send(w3, registry.set_availability_for(WORKER, False, deadline, off), stranger)
    on = sign_availability(
        KEY, **domain, registry=registry.address, worker=WORKER, available=True, nonce=2, deadline=deadline
    )
    send(w3, registry.set_availability_for(WORKER, True, deadline, on), stranger)
    assert registry.profile(WORKER).available

    terms = make_terms()
    job_id = terms.digest()
    system.escrow.postJob(terms.as_abi(), sender=agent)
    acceptance = sign_acceptance(
        KEY, **domain, escrow=escrow.address, job_id=job_id, worker=WORKER, deadline=deadline
    )
    send(w3, escrow.accept_job_for(terms, acceptance), stranger)
    assert escrow.job_state(job_id).worker == WORKER

    evidence = sign_evidence(
        KEY,
        **domain,
        escrow=escrow.address,
        job_id=job_id,
        evidence_hash=keccak(b"bundle"),
        uri="ipfs://bundle",
        deadline=deadline,
    )
    signatures = [
        sign_attestation(
            op.private_key,
            **domain,
            oracle=oracle.address,
            job_id=job_id,
            evidence_hash=evidence.evidence_hash,
            approve=True,
            reason=0,
            set_nonce=oracle.set_nonce(),
        )
        for op in operators[:2]
    ]
    send(w3, oracle.submit_and_attest(terms, evidence, True, 0, signatures), operators[0])

    assert escrow.job_state(job_id).status == JobStatus.PAID
    assert usdc.balanceOf(WORKER) == terms.reward


def test_submit_evidence_for_binding_puts_the_evidence_on_chain(
    chain, system, make_terms, agent, worker, stranger
):
    w3 = chain.provider.web3
    escrow = Escrow(w3, str(system.escrow.address))
    terms = make_terms()
    job_id = terms.digest()
    system.escrow.postJob(terms.as_abi(), sender=agent)
    system.escrow.acceptJob(terms.as_abi(), sender=worker)
    evidence = sign_evidence(
        worker.private_key,
        chain_id=chain.chain_id,
        escrow=escrow.address,
        job_id=job_id,
        evidence_hash=keccak(b"bundle"),
        uri="ipfs://bundle",
        deadline=chain.pending_timestamp + 600,
    )

    send(w3, escrow.submit_evidence_for(job_id, evidence), stranger)

    context = escrow.verification_context(job_id)
    assert (context.status, context.evidence_hash) == (JobStatus.SUBMITTED, evidence.evidence_hash)
