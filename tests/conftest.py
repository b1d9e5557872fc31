"""Fixtures: one deployment per session on anvil, isolated per test by snapshots."""

import os

import pytest
from eth_utils import keccak

from protocol_core.deployment import SystemParams, deploy_system
from protocol_core.terms import JobTerms, Requirements

REWARD = 40_000_000  # 40 USDC
PARAMS = SystemParams()


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
            requirements=Requirements(
                language=language, expertise=expertise, certifications=certifications
            ),
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
            txs.append(
                self.oracle.attest(job_id, evidence_hash, approve, reason, terms.as_abi(), sender=op)
            )
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
