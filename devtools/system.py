"""The system deployed and set up with ape, once for every caller: tests, state machines, demo, benches.

Each function is one role's step (governance adds an operator, an operator stakes, an agent funds
its allowance, a worker registers); callers compose them instead of repeating the calls.
"""

from collections.abc import Iterable
from typing import Any

from eth_utils import keccak

from protocol_core.deployment import System, SystemParams, deploy_system

USDC = 10**6
PARAMS = SystemParams()
REWARD = 40 * USDC
MAX_UINT = 2**256 - 1
ZERO_HASH = b"\x00" * 32
X25519_PLACEHOLDER = keccak(b"x25519 test key")  # registered where no sealed context is exchanged


def deploy_local(
    project: Any, deployer: Any, *, treasury: Any, params: SystemParams = PARAMS, token: Any = None
) -> System:
    """Deploys the protocol on a local chain, with a fresh TestUSDC unless `token` is given."""
    token = token if token is not None else deployer.deploy(project.TestUSDC)
    return deploy_system(project, deployer, token, params, treasury=str(treasury.address))


def deploy_fiat_usdc(project: Any, deployer: Any) -> Any:
    """A TestFiatToken behind its ERC-1967 proxy, owned by `deployer`; returns the proxy as the token.

    It costs per transfer what Polygon's native USDC costs (proxy, pause and blacklist reads, the
    allowance written on every transferFrom): the token for gas figures and the demo.
    """
    implementation = deployer.deploy(project.TestFiatToken)
    init = implementation.initialize.encode_input(deployer.address)
    proxy = deployer.deploy(project.TestFiatTokenProxy, implementation.address, init)
    return project.TestFiatToken.at(proxy.address)


def fund(token: Any, account: Any, amount: int, spender: Any = None) -> None:
    """Mints `amount` of the test token to `account` and lets `spender` pull any amount of it."""
    if amount:
        token.mint(account, amount, sender=account)
    if spender is not None:
        token.approve(spender, MAX_UINT, sender=account)


def add_operators(
    system: System, governance: Any, operators: Iterable[Any], stake: int | None = None, funds: int = 0
) -> None:
    """Governance adds each operator; each is funded and stakes `stake` (the minimum by default)."""
    stake = system.oracle.minStake() if stake is None else stake
    for operator in operators:
        system.oracle.addOperator(operator, sender=governance)
        fund(system.token, operator, max(funds, stake), system.oracle)
        system.oracle.stake(stake, sender=operator)


def register_worker(
    system: System,
    worker: Any,
    languages: int,
    expertise: int,
    capacity: int,
    key: bytes = X25519_PLACEHOLDER,
    uri: str = "ipfs://worker",
) -> None:
    """The worker registers its languages (bits), expertise (bits), capacity and X25519 key."""
    system.registry.register(languages, expertise, capacity, key, uri, sender=worker)


def grant_certifier(system: System, governance: Any, certifier: Any) -> None:
    """Governance lets `certifier` grant and revoke certifications."""
    system.registry.grantRole(system.registry.CERTIFIER_ROLE(), certifier, sender=governance)


def stake_arbitrators(system: System, arbitrators: Iterable[tuple[Any, int]], funds: int = 0) -> None:
    """Each (arbitrator, stake) is funded and stakes in the arbitration pool."""
    for arbitrator, stake in arbitrators:
        fund(system.token, arbitrator, max(funds, stake), system.arbitrator)
        system.arbitrator.stake(stake, sender=arbitrator)
