"""What the chain says the operation cost: money by kind, and the gas each paid ticket spent.

Read from the contracts' logs after the run, so nothing the simulation believes is taken on trust."""

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hexbytes import HexBytes
from web3 import Web3

from devtools.relay import transactions_from
from protocol_core.abi import abi
from protocol_core.deployment import load_deployments

JOB_EVENTS = (
    "JobPosted",
    "JobAccepted",
    "EvidenceSubmitted",
    "VerdictRecorded",
    "WorkerPaid",
    "AgentRefunded",
)


@dataclass
class Ledger:
    """USDC base units (6 decimals) by kind, and gas per paid job."""

    rewards_paid: int = 0
    protocol_fees: int = 0
    refunds: int = 0
    refunds_by_reason: dict[str, int] = field(default_factory=dict)
    oracle_fees: int = 0
    oracle_slashed: int = 0
    arbitrator_penalties: int = 0
    arbitrator_rewards: int = 0
    paid_jobs: int = 0
    gas_per_paid_job: list[int] = field(default_factory=list)
    gas_by_step: dict[str, list[int]] = field(default_factory=dict)  # post, accept, verify_and_pay, other
    transactions_per_paid_job: list[int] = field(default_factory=list)
    arbitration_fees: int = 0
    worker_transactions: int = 0
    node_transactions: int = 0
    reverted_node_transactions: int = 0


def read_ledger(w3: Web3, deployments: Path, first_block: int, workers: list[str], nodes: set[str]) -> Ledger:
    """The ledger of everything from `first_block` on; `workers` are checked to have sent nothing, and
    every transaction the oracle `nodes` sent is checked to have succeeded."""
    addresses = load_deployments(deployments)["polygon:local"]
    escrow = w3.eth.contract(address=Web3.to_checksum_address(addresses.escrow), abi=abi("JobEscrow"))
    pool = w3.eth.contract(address=Web3.to_checksum_address(addresses.arbitrator), abi=abi("ArbitrationPool"))
    ledger = Ledger()
    logs = {name: getattr(escrow.events, name).get_logs(from_block=first_block) for name in JOB_EVENTS}
    for log in logs["WorkerPaid"]:
        ledger.rewards_paid += log["args"]["amount"]
        ledger.protocol_fees += log["args"]["protocolFee"]
    for log in logs["AgentRefunded"]:
        reason = _REASONS.get(log["args"]["reason"], str(log["args"]["reason"]))
        ledger.refunds += log["args"]["amount"]
        ledger.refunds_by_reason[reason] = ledger.refunds_by_reason.get(reason, 0) + log["args"]["amount"]
    ledger.oracle_fees = sum(
        e["args"]["fee"] for e in escrow.events.OracleFeeShared.get_logs(from_block=first_block)
    )
    ledger.oracle_slashed = sum(
        e["args"]["slashed"] for e in escrow.events.OracleSlashed.get_logs(from_block=first_block)
    )
    ledger.arbitrator_penalties = sum(
        e["args"]["penalty"] for e in pool.events.Penalized.get_logs(from_block=first_block)
    )
    ledger.arbitrator_rewards = sum(
        e["args"]["reward"] for e in pool.events.Rewarded.get_logs(from_block=first_block)
    )
    ledger.arbitration_fees = sum(
        e["args"]["fee"] for e in escrow.events.JobDisputed.get_logs(from_block=first_block)
    )
    _gas(w3, logs, ledger)
    sent = transactions_from(w3, nodes, first_block)
    ledger.node_transactions, ledger.reverted_node_transactions = (
        len(sent),
        sum(not tx.succeeded for tx in sent),
    )
    ledger.worker_transactions = sum(
        w3.eth.get_transaction_count(Web3.to_checksum_address(a)) for a in workers
    )
    return ledger


def _gas(w3: Web3, logs: dict[str, list[Any]], ledger: Ledger) -> None:
    """Gas per paid job: every transaction that touched it, shared among the jobs it touched."""
    jobs_in: dict[bytes, set[bytes]] = defaultdict(set)  # tx -> jobs
    txs_of: dict[bytes, set[bytes]] = defaultdict(set)  # job -> txs
    step_of: dict[bytes, str] = {}
    for name, found in logs.items():
        for log in found:
            tx, job = bytes(log["transactionHash"]), bytes(log["args"]["jobId"])
            jobs_in[tx].add(job)
            txs_of[job].add(tx)
            step_of.setdefault(tx, _STEP.get(name, "other"))
    receipts = {tx: w3.eth.get_transaction_receipt(HexBytes(tx)) for tx in jobs_in}
    for log in logs["WorkerPaid"]:
        job = bytes(log["args"]["jobId"])
        ledger.paid_jobs += 1
        total = 0
        for tx in sorted(txs_of[job]):
            share = receipts[tx]["gasUsed"] // len(jobs_in[tx])
            total += share
            ledger.gas_by_step.setdefault(step_of[tx], []).append(share)
        ledger.gas_per_paid_job.append(total)
        ledger.transactions_per_paid_job.append(len(txs_of[job]))


_STEP = {
    "JobPosted": "post (with a permit when the allowance is short)",
    "JobAccepted": "relayed accept",
    "EvidenceSubmitted": "evidence, quorum and payout",
    "WorkerPaid": "settle",
    "VerdictRecorded": "verdict",
}
_REASONS = {0: "cancelled", 1: "not_accepted", 2: "resolve_deadline_missed", 3: "rejected",
            4: "verification_missed", 5: "ruling"}  # fmt: skip
