"""The demo's jobs in the relayed flow: posted with a permit, accepted by the worker's signature (the
agent sends it), evidence handed to the oracle nodes by HTTP; their verdict; the table."""

import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from ape import chain
from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from devtools.oracle_nodes import OracleNodes
from devtools.verdicts import Verdict
from protocol_core.eip712 import sign_permit
from protocol_core.enums import JobStatus
from protocol_core.evidence import Outcome, build_bundle
from protocol_core.handoff import compact_hex
from protocol_core.languages import language_index
from protocol_core.relayed import sign_acceptance, sign_evidence
from protocol_core.terms import JobTerms, Requirements

USDC = 10**6
PAID, REFUNDED = JobStatus.PAID, JobStatus.REFUNDED

console = Console(width=max(Console().width, 132))


@dataclass(frozen=True)
class Escalation:
    """One ticket the AI agent could not resolve safely."""

    ticket: str
    language: str
    expertise: int
    certifications: int
    reward: int
    resolved: bool = True  # what the customer confirms; False: the nodes reject it as NOT_RESOLVED
    challenge_window: int = 0
    disputed_by_agent: bool = False  # the customer says the approved resolution did not happen


def post_job(escalation: Escalation, agent, workers, confirmer, system, evidence: Path) -> dict:
    """Posts one escalation with a permit and relays its worker's signed acceptance (both sent by the
    agent); the worker signs its evidence for the oracle nodes and sends nothing."""
    escrow, usdc = system.escrow, system.token
    requirements = Requirements(
        language=language_index(escalation.language),
        expertise=escalation.expertise,
        certifications=escalation.certifications,
    )
    name, worker = match(requirements, workers, system.registry)
    now = chain.pending_timestamp
    oracle_fee, protocol_fee = escrow.quote(escalation.reward)
    terms = JobTerms(
        agent=str(agent.address),
        reward=escalation.reward,
        confirmer=str(confirmer.address),
        oracle_fee=oracle_fee,
        protocol_fee=protocol_fee,
        offered_to=str(worker.address),
        accept_by=now + 900,
        resolve_by=now + 3600,
        challenge_window=escalation.challenge_window,
        spec_hash=keccak(text=escalation.ticket),
        requirements=requirements,
    )
    job_id, domain = terms.digest(), {"chain_id": chain.chain_id, "escrow": str(escrow.address)}
    permit = sign_permit(
        agent.private_key, token_name=usdc.name(), chain_id=chain.chain_id, token=str(usdc.address),
        owner=str(agent.address), spender=str(escrow.address), version=usdc.version(),
        value=escalation.reward + oracle_fee + protocol_fee, nonce=usdc.nonces(agent), deadline=now + 600,
    )  # fmt: skip
    post = escrow.postJobWithPermit(
        terms.as_abi(), permit.value, permit.deadline, permit.v, permit.r, permit.s, sender=agent
    ).gas_used
    acceptance = sign_acceptance(
        worker.private_key, **domain, job_id=job_id, worker=str(worker.address), deadline=now + 600
    )
    accept = escrow.acceptJobFor(
        terms.as_abi(), worker, acceptance.deadline, list(acceptance.signature), sender=agent
    ).gas_used
    ticket = escalation.ticket.split()[0]
    bundle = build_bundle(
        confirmer.private_key,
        **domain,
        job_id=job_id,
        ticket_ref=ticket,
        outcome=Outcome.RESOLVED if escalation.resolved else Outcome.UNRESOLVED,
        confirmed_at=now,
        summary=escalation.ticket,
    ).canonical()
    path = evidence / f"{job_id.hex()}.json"
    path.write_bytes(bundle)
    signed = sign_evidence(
        worker.private_key, **domain, job_id=job_id, evidence_hash=keccak(bundle), uri=path.as_uri(),
        deadline=terms.resolve_by,
    )  # fmt: skip
    console.print(
        f"{escalation.ticket:<40} -> {name:<6} accepted by signature; evidence {len(bundle)} bytes, "
        f"0x{keccak(bundle).hex()[:12]}… ({'resolved' if escalation.resolved else 'UNRESOLVED'})"
    )
    return {
        "ticket": escalation.ticket,
        "language": escalation.language,
        "worker": name,
        "reward": escalation.reward,
        "outcome": "awaiting verdict",
        "verdict": "",
        "reason": "",
        "attesters": [],
        "attested_by": "",
        "gas": post + accept,
        "steps": {"post with permit": post, "relayed accept": accept},
        "transactions": 2,
        "terms": terms,
        "pending": False,
        "disputed_by_agent": escalation.disputed_by_agent,
        "handed_in_at": 0.0,
        "intake": {
            "terms": terms.model_dump(mode="json"),
            "evidence_hash": "0x" + signed.evidence_hash.hex(),
            "uri": signed.uri,
            "worker": str(worker.address),
            "deadline": signed.deadline,
            "signature": compact_hex(signed.signature),
            "bundle": bundle.decode(),
        },
    }


def hand_in(row: dict, nodes: OracleNodes) -> None:
    """The worker hands its signed evidence to every oracle node's intake (HTTP, no transaction)."""
    row["handed_in_at"] = time.monotonic()
    for node in nodes.nodes:
        answer = httpx.post(f"{node.intake_url}/v1/evidence", json=row["intake"], timeout=10)
        if answer.status_code != 202:
            raise SystemExit(f"{node.alias} refused the evidence of {row['ticket']}: {answer.text}")


def match(requirements: Requirements, workers: dict, registry) -> tuple[str, object]:
    """Off-chain matching: the first worker the registry finds eligible."""
    for name, account in workers.items():
        if registry.eligibility(account, requirements.as_abi()) == 0:
            return name, account
    raise SystemExit(f"no eligible worker for {requirements}")


def record_verdict(row: dict, verdict: Verdict, nodes: OracleNodes, escrow, blacklisted: str) -> None:
    """Puts the nodes' verdict and the job's resulting state into its row, and says so."""
    status = int(escrow.jobState(row["terms"].digest())[0])
    window = row["terms"].challenge_window
    outcome = {PAID: "paid", REFUNDED: "rejected, agent refunded"}.get(status, f"approved, window {window}s")
    if row["worker"] == blacklisted and status == PAID:
        outcome = "paid (credited: blacklisted)"
    attested_by = ", ".join(nodes.name_of(address) for address in verdict.attesters)
    if verdict.dissenters:
        attested_by += f" ({', '.join(nodes.name_of(a) for a in verdict.dissenters)} dissented)"
    verdict_text = f"{'approved' if verdict.approved else 'rejected'} {verdict.reason.name}"
    row.update(
        outcome=outcome,
        verdict="approved" if verdict.approved else "rejected",
        reason=verdict.reason.name,
        attesters=verdict.attesters,
        attested_by=attested_by,
        pending=status not in (PAID, REFUNDED),
        gas=row["gas"] + verdict.gas,
        transactions=row["transactions"] + verdict.transactions,
    )
    row["steps"]["verdict"] = verdict.gas
    seconds = time.monotonic() - row["handed_in_at"]
    console.print(
        f"{row['ticket'].split()[0]}  {verdict_text:<22} by {attested_by:<19} "
        f"{seconds:4.1f}s after the hand-in -> {outcome}"
    )


def print_table(rows: list[dict]) -> None:
    """One row per escalation: who did the work, the nodes' verdict, how it ended, the transactions and
    gas it took; then the gas of the tickets paid in three transactions, step by step."""
    table = Table(title="Escalations", expand=True)
    columns = ("ticket", "lang", "worker", "reward (USDC)", "verdict", "reason", "attested by", "outcome")
    for column in (*columns, "txs", "gas"):
        table.add_column(
            column,
            justify="right" if column in ("reward (USDC)", "txs", "gas") else "left",
            no_wrap=column in ("attested by", "reason"),
        )
    for row in rows:
        table.add_row(
            row["ticket"].split()[0], row["language"], row["worker"], f"{row['reward'] / USDC:.2f}",
            row["verdict"], row["reason"], row["attested_by"], row["outcome"], str(row["transactions"]),
            f"{row['gas']:,}",
        )  # fmt: skip
    paid = sum(r["reward"] for r in rows if r["outcome"].startswith("paid"))
    total = {key: sum(r[key] for r in rows) for key in ("reward", "transactions", "gas")}
    table.add_section()
    table.add_row(
        "total", "", "", f"{total['reward'] / USDC:.2f}", "", "", "", f"{paid / USDC:.2f} paid",
        str(total["transactions"]), f"{total['gas']:,}",
    )  # fmt: skip
    console.print(table)
    three = [row for row in rows if row["transactions"] == 3 and row["outcome"].startswith("paid")]
    if three:
        steps = {step: sum(row["steps"][step] for row in three) // len(three) for step in three[0]["steps"]}
        console.print(
            f"paid in three transactions, none of them the worker's ({len(three)} tickets): "
            + " + ".join(f"{step} {gas:,}" for step, gas in steps.items())
            + f" = [bold]{sum(row['gas'] for row in three) // len(three):,} gas per ticket[/] on average"
        )
