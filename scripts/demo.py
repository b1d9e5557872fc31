"""The main job on a local chain: deploy, register people, carry a batch of escalations to payment.

The relayed flow: the agent posts each job with a permit and relays its worker's signed acceptance;
the worker hands its signed evidence to three oracle nodes (real `oracle-node run` processes that
find each other from the endpoints their operators publish on chain); they verify it, exchange
signatures, and one of them sends evidence, verdict and payout in one `submitAndAttest`. Workers are
registered by signature too: they send no transaction.
"""

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ape import accounts, chain, project
from eth_utils import keccak

from devtools import system as harness
from devtools.oracle_nodes import OracleNodes
from devtools.relay import VERIFICATIONS, transactions_from
from devtools.verdicts import await_verdicts
from protocol_core.deployment import SystemParams, save_deployment
from protocol_core.languages import language_mask
from protocol_core.relayed import sign_registration
from scripts._demo_dispute import run_dispute
from scripts._demo_jobs import USDC, Escalation, console, hand_in, post_job, print_table, record_verdict

BILLING, API, REFUNDS, PRIVACY = 1 << 0, 1 << 1, 1 << 2, 1 << 3  # product-expertise bits
GDPR_CERTIFIED = 1 << 0  # certification bits
OPERATORS = ("oracle-1", "oracle-2", "oracle-3")  # the nodes' ape account aliases
VERDICT_DEADLINE = 120.0  # seconds the nodes get to reach every verdict


@dataclass(frozen=True)
class WorkerSpec:
    """A human specialist in the demo."""

    name: str
    languages: tuple[str, ...]
    expertise: int
    certifications: int = 0


WORKERS = (
    WorkerSpec("ana", ("es", "en"), BILLING | REFUNDS),
    WorkerSpec("kenji", ("ja", "en"), API | PRIVACY, GDPR_CERTIFIED),
    WorkerSpec("lena", ("de", "en", "fr"), BILLING | API),
    WorkerSpec("omar", ("ar", "fr", "en"), REFUNDS | PRIVACY, GDPR_CERTIFIED),
)

ESCALATIONS = (
    Escalation("T-1001 double charge, angry customer", "es", BILLING, 0, 25 * USDC),
    Escalation("T-1002 GDPR deletion request", "en", PRIVACY, GDPR_CERTIFIED, 60 * USDC),
    Escalation("T-1003 webhook signature failures", "de", API, 0, 45 * USDC),
    Escalation("T-1004 refund over policy limit", "fr", REFUNDS, 0, 35 * USDC, resolved=False),
    Escalation("T-1005 API key rotation locked out", "ja", API, 0, 50 * USDC),
    Escalation("T-1006 chargeback threat", "ar", REFUNDS, 0, 30 * USDC, challenge_window=600),
    Escalation(
        "T-1007 account takeover claim",
        "en",
        BILLING,
        0,
        40 * USDC,
        challenge_window=3600,
        disputed_by_agent=True,
    ),
)
BLACKLISTED_WORKER = "omar"  # paid while blacklisted: credited, then withdrawn to a new address


def main() -> None:
    """Runs the whole demo against the connected local chain."""
    people = accounts.test_accounts
    deployer, agent, certifier, treasury = people[0], people[1], people[2], people[3]
    operators = dict(zip(OPERATORS, (people[4], people[5], people[6]), strict=True))
    workers = {spec.name: people[7 + i] for i, spec in enumerate(WORKERS)}
    confirmer = people.generate_test_account()  # the helpdesk's key that signs customer confirmations
    params = SystemParams()
    workdir = Path(tempfile.mkdtemp(prefix="escalation-demo-"))
    evidence = workdir / "evidence"  # the nodes serve file:// URIs from here only
    evidence.mkdir()

    console.rule("[bold]deploy")
    # The USDC double that costs what Polygon's native USDC costs, so the gas column is honest.
    usdc = harness.deploy_fiat_usdc(project, deployer)
    system = harness.deploy_local(project, deployer, treasury=treasury, params=params, token=usdc)
    escrow, oracle = system.escrow, system.oracle
    harness.grant_certifier(system, deployer, certifier)
    deployments = workdir / "deployments.json"
    save_deployment("polygon:local", system.addresses(str(deployer.address), params), deployments)
    console.print(f"USDC {usdc.address} (TestFiatToken behind an ERC-1967 proxy, as Circle's)")
    console.print(f"escrow {escrow.address}, oracle {oracle.address}; work folder {workdir}")

    console.rule("[bold]oracle operators stake")
    harness.add_operators(system, deployer, operators.values())
    console.print(
        f"{len(operators)} operators, quorum {oracle.quorum()}, stake {params.min_stake / USDC:.0f} USDC each"
    )
    keys = {name: op.private_key for name, op in operators.items()}
    nodes = OracleNodes(workdir, str(chain.provider.uri), deployments, evidence, keys, relayed=True)
    for (name, op), node in zip(operators.items(), nodes.nodes, strict=True):
        oracle.setEndpoint(node.intake_url, sender=op)  # `ape run ops operator endpoint URL`
        console.print(f"{name} publishes its node's endpoint {node.intake_url}")
    with nodes:  # the nodes load while the rest of the cast registers
        console.print(f"started {', '.join(OPERATORS)} (`oracle-node run`), logs in {workdir}")
        register_cast(workers, certifier, system)
        arbitrators = stake_arbitrators(deployer, system)
        harness.fund(usdc, agent, 1_000 * USDC)  # no allowance: each job is posted with a permit
        usdc.setBlacklisted(workers[BLACKLISTED_WORKER], True, sender=deployer)
        console.print(f"oracle nodes ready {nodes.wait_ready():.1f}s after they were started")

        console.rule("[bold]escalations: posted with a permit, accepted by signature")
        from_block = chain.blocks.height + 1
        rows = [post_job(e, agent, workers, confirmer, system, evidence) for e in ESCALATIONS]

        console.rule("[bold]the workers hand their signed evidence to the oracle nodes; they verify")
        for row in rows:
            hand_in(row, nodes)
        by_job = {row["terms"].digest(): row for row in rows}
        with console.status("waiting for the oracle nodes") as status:
            await_verdicts(
                oracle,
                nodes,
                {job: row["ticket"].split()[0] for job, row in by_job.items()},
                from_block,
                VERDICT_DEADLINE,
                lambda line: status.update(f"[bold]oracle nodes[/] {line}"),
                lambda job, verdict: record_verdict(by_job[job], verdict, nodes, escrow, BLACKLISTED_WORKER),
            )
    # Stopped once every verdict is in: the operators' fee withdrawals below sign with the nodes' keys.
    codes = ", ".join(f"{alias} exit {code}" for alias, code in nodes.exit_codes.items())
    console.print(f"oracle nodes stopped (SIGTERM): {codes}")
    sent = transactions_from(chain.provider.web3, set(nodes.addresses), from_block)
    verifications = [tx for tx in sent if tx.function in VERIFICATIONS]
    reverted = sum(not tx.succeeded for tx in sent)
    console.print(
        f"the oracle nodes sent {len(verifications)} verification transaction(s) for {len(rows)} jobs "
        f"({', '.join(sorted({tx.function for tx in verifications}))}); "
        + (f"[bold red]{reverted} reverted[/]" if reverted else "none reverted")
    )
    worker_txs = sum(account.nonce for account in workers.values())
    console.print(f"the workers sent {worker_txs} transactions: registered, hired and paid by signature")

    for row in rows:
        if row["disputed_by_agent"]:
            run_dispute(row, agent, arbitrators, system)

    console.rule("[bold]after the batch")
    chain.mine(timestamp=chain.pending_timestamp + 601)
    for row in rows:
        if row["pending"]:
            tx = escrow.settle(row["terms"].as_abi(), sender=treasury)  # anyone may settle
            row["gas"] += tx.gas_used
            row["transactions"] += 1
            row["outcome"] = "paid after challenge window"
            if row["worker"] == BLACKLISTED_WORKER:
                row["outcome"] += " (credited: blacklisted)"
    blacklisted = workers[BLACKLISTED_WORKER]
    credit = escrow.creditOf(blacklisted)
    fresh = people[11]
    escrow.withdraw(fresh, sender=blacklisted)
    console.print(
        f"{BLACKLISTED_WORKER} was blacklisted: {credit / USDC:.2f} USDC credited, "
        f"withdrawn to {fresh.address}"
    )
    print_table(rows)
    for account in (*operators.values(), agent):
        if escrow.creditOf(account):
            escrow.withdraw(account, sender=account)
    for account in operators.values():
        if escrow.operatorFeesOf(account):
            escrow.withdrawOperatorFees(account, sender=account)
    collected = escrow.protocolFeesAccrued()
    escrow.collectProtocolFees(sender=treasury)
    console.print(
        f"credits withdrawn (oracle fees, the agent's reimbursement from the slashed oracle stake); "
        f"{collected / USDC:.2f} USDC protocol fees sent to the treasury"
    )
    leftover = usdc.balanceOf(escrow)
    console.print(f"escrow balance after everything settled: {leftover / USDC:.2f} USDC")
    console.print("oracle node logs: " + ", ".join(str(node.log_path) for node in nodes.nodes))
    if leftover != 0:
        raise SystemExit("escrow still holds funds after every job settled")


def register_cast(workers: dict, certifier, system) -> None:
    """Workers sign their languages, expertise and keys, which the certifier (as onboarder) sends; it
    grants certifications."""
    console.rule("[bold]workers register (signed by each, sent by the onboarder)")
    registry = system.registry
    for spec in WORKERS:
        account = workers[spec.name]
        signed = sign_registration(
            account.private_key, chain_id=chain.chain_id, registry=str(registry.address),
            worker=str(account.address), languages=language_mask(spec.languages),
            expertise=spec.expertise, max_concurrent=2, profile_uri=f"ipfs://profile/{spec.name}",
            encryption_key=keccak(text=f"x25519 public key of {spec.name}"),  # a real worker's X25519 key
            nonce=registry.nonces(account), deadline=chain.pending_timestamp + 600,
        )  # fmt: skip
        registry.registerFor(*signed.as_abi(), sender=certifier)
        if spec.certifications:
            system.registry.grantCertifications(account, spec.certifications, sender=certifier)
        console.print(
            f"{spec.name:<6} {','.join(spec.languages):<9} "
            f"expertise={spec.expertise:04b} certs={spec.certifications:b}"
        )


def stake_arbitrators(deployer, system) -> dict:
    """Five arbitrators stake in the pool; returns them by address."""
    console.rule("[bold]arbitrators stake")
    arbitrators = {}
    for _ in range(5):
        arbitrator = accounts.test_accounts.generate_test_account()
        deployer.transfer(arbitrator, 10**18)
        arbitrators[str(arbitrator.address)] = arbitrator
    stakes = [(a, (100 + 50 * i) * USDC) for i, a in enumerate(arbitrators.values())]
    harness.stake_arbitrators(system, stakes)
    console.print(f"{len(arbitrators)} arbitrators, {system.arbitrator.totalStake() / USDC:.0f} USDC staked")
    return arbitrators
