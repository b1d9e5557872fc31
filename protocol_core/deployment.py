"""Deploys and wires the protocol's contracts, and remembers their addresses per network."""

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import DeploymentError

# Native USDC (6 decimals); the bridged USDC.e is another token and must not be used.
USDC_BY_NETWORK = {
    "polygon:mainnet": "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359",
    "polygon:amoy": "0x41E94Eb019C0762f9Bfcf9Fb1E58725BfB0e7582",
}
LOCAL_NETWORKS = {"local"}
DEFAULT_DEPLOYMENTS_FILE = Path("deployments.json")
# Live networks by chain id; the same chain id on a local anvil is a fork of that network.
NETWORK_BY_CHAIN_ID = {137: "polygon:mainnet", 80002: "polygon:amoy"}
LOCAL_NETWORK = "polygon:local"


@dataclass(frozen=True)
class SystemParams:
    """Constructor and governance parameters of one deployment."""

    verification_window: int = 3600  # seconds the oracle has after evidence is submitted
    max_oracle_fee: int = 10_000_000  # cap on the flat oracle fee (10 USDC)
    oracle_fee: int = 500_000  # flat oracle fee per job (0.50 USDC)
    protocol_fee_bps: int = 100  # 1 % of the reward, to the treasury on payout
    quorum: int = 2  # matching attestations for a final verdict
    min_stake: int = 100_000_000  # 100 USDC per oracle operator
    unstake_delay: int = 7 * 24 * 3600  # seconds an arbitrator's unstaking waits in the pool
    # seconds an operator's unstaking waits: longer than the escrow's MAX_CHALLENGE_WINDOW (30 days)
    # + verification_window, which the escrow checks; a dispute holds the stake until it settles
    oracle_unstake_delay: int = 31 * 24 * 3600
    oracle_slash: int = 20_000_000  # most an operator loses per overturned verdict (20 USDC)
    dispute_bond_min: int = 5_000_000  # least dispute bond (5 USDC)
    dispute_bond_bps: int = 1_000  # dispute bond as a share of the reward (10 %)
    bond_pool_share_bps: int = 2_000  # share of a forfeited bond for the arbitrators (20 %)
    wronged_share_bps: int = 5_000  # share of slashed stake, after the fee, for the wronged party
    fee_per_arbitrator: int = 2_000_000  # per seat of a panel (2 USDC)
    commit_minutes: int = 30
    reveal_minutes: int = 30
    appeal_minutes: int = 60
    arbitrator_min_stake: int = 50_000_000  # 50 USDC
    arbitrator_max_stake: int = 5_000_000_000  # 5,000 USDC, so that no one dominates draws
    lock_per_draw: int = 10_000_000  # stake locked per seat, lost when voting against the ruling
    max_rounds: int = 3  # panels of 3, 7, 15
    meta_evidence_uri: str = "ipfs://escalation-protocol/meta-evidence-v1.json"


@dataclass
class Addresses:
    """Where one network's deployment lives."""

    token: str
    registry: str
    oracle: str
    escrow: str
    deployer: str
    arbitrator: str = ""
    randomness: str = ""
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class System:
    """Connected contract instances of one deployment."""

    token: Any
    registry: Any
    oracle: Any
    escrow: Any
    arbitrator: Any
    randomness: Any

    def addresses(self, deployer: str, params: SystemParams) -> Addresses:
        """The record written to the deployments file."""
        return Addresses(
            token=str(self.token.address),
            registry=str(self.registry.address),
            oracle=str(self.oracle.address),
            escrow=str(self.escrow.address),
            arbitrator=str(self.arbitrator.address),
            randomness=str(self.randomness.address),
            deployer=deployer,
            params=asdict(params),
        )


def load_deployments(path: Path = DEFAULT_DEPLOYMENTS_FILE) -> dict[str, Addresses]:
    """Every recorded deployment, by `ecosystem:network`."""
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text())
        return {name: Addresses(**entry) for name, entry in raw.items()}
    except (OSError, ValueError, TypeError, AttributeError) as err:
        raise DeploymentError(
            f"{path} is not a readable deployments file ({type(err).__name__}: {err}); "
            "repair it, or move it away and deploy again"
        ) from err


def save_deployment(name: str, addresses: Addresses, path: Path = DEFAULT_DEPLOYMENTS_FILE) -> None:
    """Records one network's addresses, keeping the others."""
    known = load_deployments(path)
    known[name] = addresses
    path.write_text(json.dumps({k: asdict(v) for k, v in sorted(known.items())}, indent=2) + "\n")


def network_for_chain(chain_id: int, dev_node: bool) -> str:
    """The deployments key of a chain: a live Polygon network, a local fork of one, or polygon:local.

    `dev_node` is true for a chain run by a development node (anvil): with a live network's chain id
    it is a fork of that network, with any other chain id the local network.
    """
    live = NETWORK_BY_CHAIN_ID.get(chain_id)
    if dev_node:
        return f"{live}-fork" if live else LOCAL_NETWORK
    if live is None:
        known = ", ".join(f"{name} ({cid})" for cid, name in NETWORK_BY_CHAIN_ID.items())
        raise DeploymentError(f"chain id {chain_id} is not a supported network: {known}, or a local anvil")
    return live


def is_local(network_key: str) -> bool:
    """True for a chain on this machine (polygon:local or a fork): test tokens and file:// are fine there."""
    network = network_key.partition(":")[2]
    return network in LOCAL_NETWORKS or network.endswith("-fork")


def check_usdc(token: Any, network: str) -> None:
    """Refuses a token that is not 6-decimal USDC at the address expected on `network`."""
    expected = USDC_BY_NETWORK.get(network)
    if expected is not None and str(token.address).lower() != expected.lower():
        raise DeploymentError(f"{network} must use native USDC at {expected}, not {token.address}")
    symbol, decimals = token.symbol(), token.decimals()
    if symbol != "USDC" or decimals != 6:
        raise DeploymentError(
            f"token at {token.address} reports {symbol!r} with {decimals} decimals; "
            "expected 'USDC' with 6. Check the network and the token address."
        )


def settlement_token(project: Any, deployer: Any, network_key: str) -> Any:
    """A fresh TestUSDC on a local chain; elsewhere the network's native USDC, checked on chain.

    Test-only contracts (contracts/test/) are deployed on local networks and nowhere else.
    """
    ecosystem, _, network = network_key.partition(":")
    if network in LOCAL_NETWORKS:
        return deployer.deploy(project.TestUSDC)
    base = f"{ecosystem}:{network.removesuffix('-fork')}"
    if base not in USDC_BY_NETWORK:
        known = ", ".join(USDC_BY_NETWORK)
        raise DeploymentError(f"no USDC address known for {network_key}; supported: {known}")
    address = USDC_BY_NETWORK[base]
    if not deployer.provider.get_code(address):
        raise DeploymentError(
            f"no contract at {base}'s USDC address {address}: is the RPC really {network_key}?"
        )
    token = project.TestUSDC.at(address)  # bound with an ERC-20 + permit ABI; nothing is deployed
    check_usdc(token, base)
    return token


def deploy_system(
    project: Any,
    deployer: Any,
    token: Any,
    params: SystemParams = SystemParams(),
    governance: str | None = None,
    treasury: str | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> System:
    """Deploys randomness, arbitration pool, registry, oracle and escrow, wired by immutable addresses.

    The pool, registry and oracle take the escrow's address before it exists: it is the deployer's
    CREATE address three transactions after the randomness source, and the escrow's constructor
    checks that the registry and oracle point back (the pool only lets it draw on its reserve).
    """
    governance = governance or str(deployer.address)
    treasury = treasury or governance
    progress("BlockhashRandomness")
    randomness = deployer.deploy(project.BlockhashRandomness)
    # The escrow is deployed fourth from here (pool, registry, oracle, escrow); only its disputes
    # draw on the pool's reward reserve.
    escrow_address = deployer.get_deployment_address(deployer.nonce + 3)
    progress("ArbitrationPool")
    arbitrator = deployer.deploy(
        project.ArbitrationPool,
        token.address,
        randomness.address,
        governance,
        params.arbitrator_min_stake,
        params.arbitrator_max_stake,
        params.lock_per_draw,
        params.unstake_delay,
        params.max_rounds,
        (params.fee_per_arbitrator, params.commit_minutes, params.reveal_minutes, params.appeal_minutes),
        escrow_address,
    )
    progress("WorkerRegistry")
    registry = deployer.deploy(project.WorkerRegistry, escrow_address, governance)
    progress("VerificationOracle")
    oracle = deployer.deploy(
        project.VerificationOracle,
        token.address,
        escrow_address,
        governance,
        params.quorum,
        params.min_stake,
        params.oracle_unstake_delay,
        params.oracle_slash,
    )
    progress("JobEscrow")
    escrow = deployer.deploy(
        project.JobEscrow,
        (
            token.address,
            registry.address,
            oracle.address,
            arbitrator.address,
            treasury,
            governance,
            params.verification_window,
            params.max_oracle_fee,
            params.dispute_bond_min,
            params.dispute_bond_bps,
            params.bond_pool_share_bps,
            params.wronged_share_bps,
            params.meta_evidence_uri,
        ),
    )
    if str(escrow.address) != str(escrow_address):
        raise DeploymentError(
            f"escrow landed at {escrow.address}, not the predicted {escrow_address}: another "
            "transaction from the deployer interleaved. Redeploy with an idle deployer account."
        )
    if governance == str(deployer.address):
        escrow.setFees(params.protocol_fee_bps, params.oracle_fee, sender=deployer)
    return System(
        token=token,
        registry=registry,
        oracle=oracle,
        escrow=escrow,
        arbitrator=arbitrator,
        randomness=randomness,
    )


def connect_system(project: Any, addresses: Addresses) -> System:
    """Binds to an earlier deployment."""
    # TestUSDC's ABI is ERC-20 + EIP-2612, a superset of what the protocol calls on real USDC.
    return System(
        token=project.TestUSDC.at(addresses.token),
        registry=project.WorkerRegistry.at(addresses.registry),
        oracle=project.VerificationOracle.at(addresses.oracle),
        escrow=project.JobEscrow.at(addresses.escrow),
        arbitrator=project.ArbitrationPool.at(addresses.arbitrator),
        randomness=project.BlockhashRandomness.at(addresses.randomness),
    )
