"""Fixtures of the contract tests: the arbitration pool, its arbitrators, disputes to rule on."""

from dataclasses import dataclass
from typing import Any

import pytest

from devtools.system import PARAMS, USDC
from tests.contracts.arbitration_helpers import (
    ARBITRATOR_STAKE,
    ETH,
    SESSION_ARBITRATORS,
    Jobs,
    drain_escrow,
    everyone,
    new_accounts,
    pool_owes,
    rule,
    stake_new,
)
from tests.contracts.relay_helpers import Relay


@pytest.fixture(scope="session")
def arbitrators(accounts, usdc, system) -> dict[str, Any]:
    """Twenty arbitrators staked in the deployed pool, by address (staked once per session)."""
    return stake_new(accounts, usdc, system.arbitrator, [ARBITRATOR_STAKE] * SESSION_ARBITRATORS)


@pytest.fixture
def pool(system):
    """The deployed pool, the escrow's arbitrator."""
    return system.arbitrator


@pytest.fixture
def fresh_pool(project, deployer, usdc, system):
    """A second pool with the deployed parameters and nobody staked, for draws that need few arbitrators."""
    p = PARAMS
    return deployer.deploy(
        project.ArbitrationPool,
        usdc.address,
        system.randomness.address,
        deployer.address,
        p.arbitrator_min_stake,
        p.arbitrator_max_stake,
        p.lock_per_draw,
        p.unstake_delay,
        p.max_rounds,
        (p.fee_per_arbitrator, p.commit_minutes, p.reveal_minutes, p.appeal_minutes),
        system.escrow.address,
    )


@pytest.fixture
def claimant(accounts, usdc):
    """An account without code that opens disputes on a pool directly."""
    (account,) = new_accounts(accounts, usdc, 1, 10_000 * USDC)
    return account


@pytest.fixture
def reverting_arbitrable(accounts, usdc, registry):
    """The worker registry's address, impersonated: a real contract whose missing `rule` reverts."""
    account = accounts.impersonate_account(registry.address)
    account.balance = ETH
    usdc.mint(account, 10_000 * USDC, sender=account)
    return account


@pytest.fixture
def jobs(escrow, flow, make_terms, worker):
    """Jobs of the conftest agent and worker, brought to the point a dispute needs."""
    return Jobs(escrow, flow, make_terms, worker)


@dataclass(frozen=True)
class Court:
    """The session's deployment and its people, as the dispute tests use them, in one fixture."""

    chain: Any
    usdc: Any
    escrow: Any
    oracle: Any
    registry: Any
    pool: Any
    deployer: Any
    agent: Any
    worker: Any
    operators: Any
    stranger: Any
    arbitrators: dict[str, Any]
    jobs: Jobs

    def rule_and_settle(self, dispute_id: int, terms: Any, ruling: int) -> Any:
        """A unanimous panel rules `ruling`; a stranger settles; returns the settle transaction."""
        rule(self.pool, self.chain, dispute_id, self.arbitrators, everyone(ruling))
        return self.escrow.settle(terms.as_abi(), sender=self.stranger)

    def check_books(self, people: list[Any]) -> None:
        """The pool holds exactly what it owes; the escrow is empty once every credit and fee is out."""
        assert self.usdc.balanceOf(self.pool) == pool_owes(self.pool, [*self.arbitrators, self.deployer])
        drain_escrow(self.escrow, people)
        assert self.usdc.balanceOf(self.escrow) == 0


# Fixtures named in the signature (not fetched with request.getfixturevalue): pytest then sets the
# session-scoped ones up before the per-test snapshot, so the snapshot's revert never undoes them.
@pytest.fixture
def court(
    chain,
    usdc,
    escrow,
    oracle,
    registry,
    pool,
    deployer,
    agent,
    worker,
    operators,
    stranger,
    arbitrators,
    jobs,
) -> Court:
    return Court(
        chain,
        usdc,
        escrow,
        oracle,
        registry,
        pool,
        deployer,
        agent,
        worker,
        operators,
        stranger,
        arbitrators,
        jobs,
    )


@pytest.fixture
def relay(chain, escrow, oracle, registry) -> Relay:
    """Signs acceptances, evidence, attestations and registrations off chain, as the SDK's users do."""
    return Relay(chain, escrow, oracle, registry)
