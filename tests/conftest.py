"""Fixtures: one deployment per session on anvil, isolated per test by snapshots."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from typing import Any

import ape
import pytest
from ape import chain as _chain
from eth_utils import is_address, keccak, to_checksum_address

from protocol_core.deployment import SystemParams, deploy_system
from protocol_core.eip712 import sign_attestation as sign_attestation_offchain
from protocol_core.eip712 import sign_permit as sign_permit_offchain
from protocol_core.enums import Ineligibility, JobStatus, RefundReason
from protocol_core.terms import ZERO_ADDRESS, JobTerms, Requirements

REWARD = 40_000_000  # 40 USDC
PARAMS = SystemParams()
ZERO_HASH = b"\x00" * 32
__all__ = [
    "PARAMS",
    "REWARD",
    "ZERO_ADDRESS",
    "ZERO_HASH",
    "Ineligibility",
    "JobStatus",
    "RefundReason",
    "reverts",
]


def _normalized(value: Any) -> Any:
    if hasattr(value, "address"):
        value = value.address
    if isinstance(value, str) and is_address(value):
        return to_checksum_address(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, IntEnum):
        return int(value)
    return value


def _revert_origin(exc: Any) -> tuple[str, bytes] | None:
    """Address and revert data of the innermost call whose revert the transaction bubbled up."""
    txn = getattr(exc, "txn", None)
    txn_hash = getattr(txn, "txn_hash", None) if txn is not None else None
    if txn_hash is None:
        return None
    node = _chain.provider.get_transaction_trace(txn_hash.hex()).get_calltree()
    while bubbled := [c for c in node.calls if c.failed and c.returndata == node.returndata]:
        node = bubbled[-1]
    return to_checksum_address(node.address), bytes(node.returndata)


@contextmanager
def reverts(error: Any, **inputs: Any) -> Iterator[Any]:
    """`ape.reverts(error, **inputs)`, but strict about who reverted and with what.

    ape.reverts ignores input names it does not know, passes reverts it could not decode, and
    decodes an error bubbled up through another contract with whatever ABI shares its selector.
    Here the innermost reverting contract must be `error`'s, its revert data must decode as
    `error`, and every named input must exist and match.
    """
    with ape.reverts() as info:
        yield info
    exc = info.value
    origin = _revert_origin(exc)
    if origin is None:  # reverted in a call, not a mined transaction: trust ape's decoding
        assert isinstance(exc, error), f"expected {error.__name__}, got {exc!r}"
        actual = dict(exc.inputs)
    else:
        address, data = origin
        expected_address = str(error.contract.address)
        assert address == expected_address, (
            f"expected {error.__name__} from {expected_address}, but {address} reverted with "
            f"0x{data.hex()} ({exc!r})"
        )
        assert data[:4] == keccak(text=error.abi.selector)[:4], (
            f"expected {error.__name__}, got {exc!r} (0x{data.hex()})"
        )
        actual = _chain.provider.network.ecosystem.decode_calldata(error.abi, data[4:])
    unknown = set(inputs) - set(actual)
    assert not unknown, f"{error.__name__} has no inputs {sorted(unknown)}; it has {sorted(actual)}"
    wrong = {
        name: (actual[name], value)
        for name, value in inputs.items()
        if _normalized(actual[name]) != _normalized(value)
    }
    assert not wrong, f"{error.__name__} inputs (actual, expected): {wrong}"


@pytest.fixture(scope="session")
def deployer(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def agent(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def worker(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def other_worker(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def operators(accounts):
    return accounts[4:7]


@pytest.fixture(scope="session")
def certifier(accounts):
    return accounts[7]


@pytest.fixture(scope="session")
def stranger(accounts):
    return accounts[8]


@pytest.fixture(scope="session")
def treasury(accounts):
    return accounts[9]


@pytest.fixture(scope="session")
def usdc(project, deployer):
    return deployer.deploy(project.TestUSDC)


@pytest.fixture(scope="session")
def system(project, deployer, usdc, treasury, certifier, operators, agent, worker, other_worker):
    sys = deploy_system(project, deployer, usdc, PARAMS, treasury=str(treasury.address))
    sys.registry.grantRole(sys.registry.CERTIFIER_ROLE(), certifier, sender=deployer)
    for op in operators:
        sys.oracle.addOperator(op, sender=deployer)
        usdc.mint(op, PARAMS.min_stake, sender=op)
        usdc.approve(sys.oracle, PARAMS.min_stake, sender=op)
        sys.oracle.stake(PARAMS.min_stake, sender=op)
    usdc.mint(agent, 10_000 * 10**6, sender=agent)
    usdc.approve(sys.escrow, 2**256 - 1, sender=agent)
    key = keccak(b"x25519 test key")
    sys.registry.register(0b11, 0b1, 2, key, "ipfs://worker", sender=worker)
    sys.registry.register(0b10, 0b1, 1, key, "ipfs://other", sender=other_worker)
    return sys


@pytest.fixture(scope="session")
def escrow(system):
    return system.escrow


@pytest.fixture(scope="session")
def registry(system):
    return system.registry


@pytest.fixture(scope="session")
def oracle(system):
    return system.oracle


@pytest.fixture(autouse=True)
def _isolate(chain, system):
    """Every test starts from the deployed system and leaves nothing behind."""
    snapshot = chain.snapshot()
    yield
    chain.restore(snapshot)


@pytest.fixture
def make_terms(chain, escrow, agent):
    """Builds valid terms for a new job; keyword overrides change single fields."""

    def build(reward=REWARD, challenge_window=0, language=0, expertise=0b1, certifications=0, **over):
        now = chain.pending_timestamp
        oracle_fee, protocol_fee = escrow.quote(reward)
        fields = dict(
            agent=str(agent.address),
            reward=reward,
            oracle_fee=oracle_fee,
            protocol_fee=protocol_fee,
            accept_by=now + 3600,
            resolve_by=now + 7200,
            challenge_window=challenge_window,
            spec_hash=keccak(b"spec" + os.urandom(8)),
            requirements=Requirements(language=language, expertise=expertise, certifications=certifications),
        )
        fields.update(over)
        return JobTerms(**fields)

    return build


class Flow:
    """Drives jobs through the lifecycle for tests that start in a later phase."""

    def __init__(self, system, agent, operators):
        self.escrow, self.oracle = system.escrow, system.oracle
        self.agent, self.operators = agent, operators

    def post(self, terms):
        tx = self.escrow.postJob(terms.as_abi(), sender=self.agent)
        return terms.digest(), tx

    def accept(self, job_id, terms, worker):
        return self.escrow.acceptJob(terms.as_abi(), sender=worker)

    def submit(self, job_id, worker, evidence=b"evidence"):
        evidence_hash = keccak(evidence)
        tx = self.escrow.submitEvidence(job_id, evidence_hash, "ipfs://bundle", sender=worker)
        return evidence_hash, tx

    def attest(self, job_id, evidence_hash, terms, approve=True, operators=None, reason=0):
        txs = []
        for op in operators or self.operators[:2]:
            txs.append(self.oracle.attest(job_id, evidence_hash, approve, reason, terms.as_abi(), sender=op))
        return txs

    def submitted(self, terms, worker):
        """Posts, accepts and submits; returns (job_id, evidence_hash)."""
        job_id, _ = self.post(terms)
        self.accept(job_id, terms, worker)
        evidence_hash, _ = self.submit(job_id, worker)
        return job_id, evidence_hash


@pytest.fixture
def flow(system, agent, operators):
    return Flow(system, agent, operators)


@pytest.fixture
def sign_attestation(chain, oracle):
    """An operator's EIP-712 attestation in the compact EIP-2098 form, as an oracle node signs it.

    Keyword overrides sign a digest the oracle would not compute now (another chain, an old nonce).
    """

    def sign(operator, job_id, evidence_hash, approve=True, reason=0, *, set_nonce=None, chain_id=None):
        return sign_attestation_offchain(
            operator.private_key,
            chain_id=chain.chain_id if chain_id is None else chain_id,
            oracle=str(oracle.address),
            job_id=job_id,
            evidence_hash=evidence_hash,
            approve=approve,
            reason=reason,
            set_nonce=oracle.setNonce() if set_nonce is None else set_nonce,
        )

    return sign


@pytest.fixture
def sign_permit(chain, usdc):
    """An EIP-2612 permit of `owner` for `spender`, signed off-chain; returns (v, r, s)."""

    def sign(owner, spender, value, deadline, nonce=None):
        permit = sign_permit_offchain(
            owner.private_key,
            token_name=usdc.name(),
            chain_id=chain.chain_id,
            token=str(usdc.address),
            owner=str(owner.address),
            spender=str(spender.address),
            value=value,
            nonce=usdc.nonces(owner) if nonce is None else nonce,
            deadline=deadline,
        )
        return permit.v, permit.r, permit.s

    return sign
