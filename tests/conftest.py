"""Fixtures every test folder shares: one deployment per session on anvil, isolated per test by
snapshots, and the session's Redis and PostgreSQL servers."""

import os
from collections.abc import Iterator

import pytest
from eth_utils import keccak

from devtools.servers import ServerUnavailable, new_database, run_postgres, run_redis
from devtools.system import (
    REWARD,
    USDC,
    add_operators,
    deploy_local,
    fund,
    grant_certifier,
    register_worker,
)
from protocol_core.eip712 import sign_attestation as sign_attestation_offchain
from protocol_core.eip712 import sign_permit as sign_permit_offchain
from protocol_core.terms import JobTerms, Requirements


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
    sys = deploy_local(project, deployer, treasury=treasury, token=usdc)
    grant_certifier(sys, deployer, certifier)
    add_operators(sys, deployer, operators)
    fund(usdc, agent, 10_000 * USDC, sys.escrow)
    register_worker(sys, worker, 0b11, 0b1, 2)
    register_worker(sys, other_worker, 0b10, 0b1, 1, uri="ipfs://other")
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


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """URL of a redis-server started for this session."""
    try:
        with run_redis() as url:
            yield url
    except ServerUnavailable as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a PostgreSQL database created for this session."""
    try:
        with run_postgres() as url:
            yield url
    except ServerUnavailable as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def fresh_postgres_url(postgres_url) -> str:
    """A new, empty database on the session's PostgreSQL, for a test whose state must not meet another's."""
    return new_database(postgres_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path) -> str:
    """An empty database of the test's own, once a SQLite file and once on the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/test.db"
    return request.getfixturevalue("fresh_postgres_url")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups into the test ids
def pytest_collection_modifyitems(items):
    """Two xdist workers (`make test`): the process tests of tests/e2e, each on chains of its own, go
    module by module to whichever worker is free; every other test shares the session's chain and
    deployment and runs on one worker in collection order (the draw tests failed when other modules ran
    before them on that chain in another order)."""
    for item in items:
        module = item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(module if module.startswith("tests/e2e/") else "session"))
