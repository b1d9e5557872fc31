"""The main job: a support operation simulated on a local chain, every part running as the real thing.

`make demo` (or `ape run demo --network polygon:local:foundry [OPTIONS]`, see `--help`) deploys the
contracts with a USDC double that costs what Polygon's USDC costs, stakes three oracle operators and
five arbitrators, registers ten specialists by signature (their wallets stay empty), then runs a few
thousand corpus tickets through the escalation engine, the desk, the specialists' SDK, three oracle
nodes and the arbitrators' daemons (devtools/operation/). At the end it prints the support manager's
report and writes demo-out/report.json and demo-out/report.html.
"""

import secrets
import tempfile
import time
from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand
from ape.logging import logger
from eth_account import Account
from nacl.public import PrivateKey
from rich.console import Console

from devtools import system as harness
from devtools.desk import HELPDESK_SECRET
from devtools.operation.crew import CREW, Crew
from devtools.operation.dispute import rule_dispute
from devtools.operation.ledger import read_ledger
from devtools.operation.run import LEARNING_LOG, ChainClock, Operation, Options, work_time
from devtools.operation.world import Stage
from escalation.config import build_config
from escalation.report import render_terminal, write_report
from protocol_core.deployment import SystemParams, save_deployment
from protocol_core.languages import language_mask
from protocol_core.relayed import sign_registration
from scripts._demo_report import build_report

USDC = 10**6
ARBITRATORS = 5
console = Console(width=100)


@click.command(cls=ConnectedProviderCommand)
@click.option("--tickets", default=Options.tickets, show_default=True, help="Tickets in the stream.")
@click.option("--days", default=Options.days, show_default=True, help="Simulated days they arrive over.")
@click.option("--seed", default=Options.seed, show_default=True, help="Seed of the stream and the crew.")
@click.option("--speed", default=Options.speed, show_default=True,
              help="Simulated seconds of a specialist's work per real second.")  # fmt: skip
@click.option(
    "--pol-usd", default=None, type=float, help="POL price in USD for the gas cost (default: the report's)."
)
@click.option("--gas-gwei", default=None, type=float, help="Gas price in gwei (default: the report's).")
@click.option("--out", default=Path("demo-out"), show_default=True, type=click.Path(path_type=Path),
              help="Folder the report is written to.")  # fmt: skip
def cli(tickets: int, days: int, seed: int, speed: float, pol_usd: float | None, gas_gwei: float | None,
        out: Path) -> None:  # fmt: skip
    """Simulates a support operation on a local chain and reports it as a support manager reads it."""
    if tickets < days or days < 1 or speed <= 0:
        raise click.BadParameter("need at least one ticket a day, one day, and a positive speed")
    options = Options(tickets=tickets, days=days, seed=seed, speed=speed)
    logger.set_level("WARNING")  # ape's per-transaction lines would drown the progress
    workdir = Path(tempfile.mkdtemp(prefix="escalation-demo-"))
    started = time.monotonic()
    stage, crew, w3 = set_up(options, workdir)
    console.print(f"set up in {time.monotonic() - started:.1f}s; logs and databases in {workdir}")
    clock = ChainClock(w3, chain.chain_id, stage_escrow(stage))
    operation = Operation(stage, options, crew, lambda line: console.print(line))
    console.rule(f"[bold]{tickets} tickets over {days} simulated days")
    record = operation.run(clock, lambda world, op: rule_dispute(world, op, clock))
    workers = [p.account.address for p in crew.people.values()]
    nodes = {Account.from_key(key).address for key in stage.operator_keys.values()}
    with console.status("reading the ledger from the chain's logs"):
        ledger = read_ledger(w3, stage.deployments, record.first_block, workers, nodes)
    report = build_report(record, ledger, operation, pol_usd=pol_usd, gas_gwei=gas_gwei)
    console.rule("[bold]the support manager's report")
    render_terminal(report, console)
    files = write_report(report, out)
    console.print(f"written: {files.json}, {files.html} (the demo ran {time.monotonic() - started:.0f}s)")
    if crew.errors:
        console.print(f"[yellow]{len(crew.errors)} specialist step(s) failed; first: {crew.errors[0]}")


def set_up(options: Options, workdir: Path) -> tuple[Stage, Crew, object]:
    """Deploys, stakes operators and arbitrators, registers the crew, funds the agent."""
    people = accounts.test_accounts
    deployer, agent, certifier, treasury = people[0], people[1], people[2], people[3]
    operators = (people[4], people[5], people[6])
    params = SystemParams()
    with console.status("deploying the contracts"):
        usdc = harness.deploy_fiat_usdc(project, deployer)
        system = harness.deploy_local(project, deployer, treasury=treasury, params=params, token=usdc)
        harness.grant_certifier(system, deployer, certifier)
        deployments = workdir / "deployments.json"
        save_deployment("polygon:local", system.addresses(str(deployer.address), params), deployments)
        harness.add_operators(system, deployer, operators)
    console.print(f"deployed: escrow {system.escrow.address}, USDC double {usdc.address}; 3 operators staked")
    arbitrator_keys = stake_arbitrators(deployer, system)
    crew = Crew(CREW, options.seed, work_time(options.speed))
    register_crew(crew, certifier, system)
    harness.fund(usdc, agent, 50_000 * USDC)  # no allowance: the desk posts with a permit
    settings = {
        "daily_budget": 10**12,  # the desk's budget is per real UTC day; the run packs weeks into minutes
        "permit_version": usdc.version(),
        "offer_timeout_s": 20,
        "learning_log": workdir / LEARNING_LOG,
        "learning_confirmations": 1,
    }
    stage = Stage(
        rpc=str(chain.provider.uri),
        deployments=deployments,
        workdir=workdir,
        agent_key=_key(agent),
        operator_keys={f"oracle-{i + 1}": _key(op) for i, op in enumerate(operators)},
        arbitrator_keys=arbitrator_keys,
        helpdesk_secret=HELPDESK_SECRET,
        callback_secret=secrets.token_hex(16),
        desk_settings=settings,
    )
    return stage, crew, chain.provider.web3


def stage_escrow(stage: Stage) -> str:
    from protocol_core.deployment import load_deployments

    return load_deployments(stage.deployments)["polygon:local"].escrow


def stake_arbitrators(deployer, system) -> dict[str, tuple[bytes, PrivateKey]]:
    """Five arbitrators stake in the pool and register the X25519 key case files are sealed to."""
    keys: dict[str, tuple[bytes, PrivateKey]] = {}
    stakes = []
    for i in range(ARBITRATORS):
        arbitrator = accounts.test_accounts.generate_test_account()
        deployer.transfer(arbitrator, 10**18)
        x25519 = PrivateKey.generate()
        system.registry.register(
            1, 0, 1, bytes(x25519.public_key), f"ipfs://arbitrator-{i + 1}", sender=arbitrator
        )
        keys[f"arbitrator-{i + 1}"] = (_key(arbitrator), x25519)
        stakes.append((arbitrator, (100 + 50 * i) * USDC))
    harness.stake_arbitrators(system, stakes)
    console.print(f"{ARBITRATORS} arbitrators staked {system.arbitrator.totalStake() / USDC:.0f} USDC")
    return keys


def register_crew(crew: Crew, certifier, system) -> None:
    """Each specialist signs their profile and X25519 key; the certifier (as onboarder) sends it and
    grants the certifications. The specialists' wallets stay empty."""
    requirements = build_config().requirements
    registry = system.registry
    for person in crew.people.values():
        spec, address = person.spec, person.account.address
        signed = sign_registration(
            person.account.key, chain_id=chain.chain_id, registry=str(registry.address), worker=address,
            languages=language_mask(spec.languages),
            expertise=_bits(spec.expertise, requirements.expertise_bits),
            max_concurrent=spec.capacity, profile_uri=f"ipfs://profile/{spec.name}",
            encryption_key=bytes(person.x25519.public_key), nonce=registry.nonces(address),
            deadline=chain.pending_timestamp + 600,
        )  # fmt: skip
        registry.registerFor(*signed.as_abi(), sender=certifier)
        if spec.certifications:
            registry.grantCertifications(address, _bits(spec.certifications, requirements.certification_bits),
                                         sender=certifier)  # fmt: skip
    console.print(f"{len(crew.people)} specialists registered by signature (empty wallets)")


def _key(account) -> bytes:
    """A test account's private key (the daemons get it in their own keystores)."""
    return bytes.fromhex(account.private_key.removeprefix("0x"))


def _bits(names: tuple[str, ...], table: dict[str, int]) -> int:
    return sum(1 << table[name] for name in names)
