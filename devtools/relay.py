"""The relayed flow in the harness: oracle nodes that take evidence by HTTP and exchange signatures, a
worker with an empty wallet hired by signature, its evidence handed to a node, and the nodes'
transactions read back from the chain."""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_utils import keccak
from web3 import Web3

from protocol_core.abi import abi
from protocol_core.handoff import compact_hex
from protocol_core.relayed import sign_acceptance, sign_evidence, sign_registration
from runtime.abi import function_selector

from .accounts import AGENT, DEPLOYER
from .chain import free_port
from .oracle_nodes import OracleNode
from .protocol import Job, Protocol

SELECTORS = {
    function_selector(abi(contract), name): name
    for contract, names in (
        ("VerificationOracle", ("attest", "attestWithSignatures", "submitAndAttest")),
        ("JobEscrow", ("submitEvidenceFor",)),
    )
    for name in names
}
VERIFICATIONS = {"attest", "attestWithSignatures", "submitAndAttest"}


def relayed_nodes(
    workdir: Path,
    rpc: str,
    deployments: Path,
    aliases: list[str],
    peers: dict[str, list[str]] | None = None,
    from_chain: bool = False,
    **settings: Any,
) -> list[OracleNode]:
    """One node per alias with an intake port each, every node the others' peer (or `peers[alias]`);
    `from_chain`: no peers configured, each finds the others' endpoints on chain (`publish_endpoints`)."""
    ports = {alias: free_port() for alias in aliases}
    urls = {alias: f"http://127.0.0.1:{port}" for alias, port in ports.items()}
    nodes = []
    for alias in aliases:
        mine = [urls[other] for other in aliases if other != alias] if peers is None else peers[alias]
        mine = [] if from_chain else mine
        node = OracleNode(
            workdir,
            rpc,
            deployments,
            alias,
            evidence=workdir / "evidence",
            intake_port=ports[alias],
            peers=json.dumps(mine),
            **settings,
        )
        node.intake_url = urls[alias]
        nodes.append(node)
    return nodes


def publish_endpoints(protocol: Protocol, nodes: list[OracleNode]) -> None:
    """Each node's operator (alias op<index>, devtools.accounts) publishes its intake URL on chain."""
    for node in nodes:
        operator = int(node.alias.removeprefix("op"))
        protocol.send("VerificationOracle", "setEndpoint", node.intake_url, sender=operator)


@contextmanager
def running(nodes: list[OracleNode]) -> Iterator[list[OracleNode]]:
    """Starts the nodes, waits until each is ready, and kills them on the way out."""
    try:
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_ready()
        yield nodes
    finally:
        for node in nodes:
            node.kill()


@dataclass
class Worker:
    """A worker that holds a key and never any POL."""

    key: bytes

    @property
    def address(self) -> str:
        return str(Account.from_key(self.key).address)

    @classmethod
    def fresh(cls) -> "Worker":
        return cls(os.urandom(32))


def register_relayed(protocol: Protocol, worker: Worker) -> None:
    """The worker signs its registration; the deployer (as an onboarder) sends it."""
    registry = protocol.contracts["WorkerRegistry"]
    signed = sign_registration(
        worker.key,
        chain_id=protocol.w3.eth.chain_id,
        registry=registry.address,
        worker=worker.address,
        languages=0b1,
        expertise=0b1,
        max_concurrent=200,
        encryption_key=keccak(b"x25519"),
        profile_uri="ipfs://w",
        nonce=registry.functions.nonces(worker.address).call(),
        deadline=_later(protocol),
    )
    protocol.send("WorkerRegistry", "registerFor", *signed.as_abi(), sender=DEPLOYER)


def hire_relayed(protocol: Protocol, worker: Worker, reward: int = 20_000_000) -> Job:
    """The agent posts a job offered to `worker` and relays the worker's signed acceptance."""
    job = protocol.post_open(worker.address, reward)
    acceptance = sign_acceptance(
        worker.key,
        chain_id=protocol.w3.eth.chain_id,
        escrow=protocol.addresses.escrow,
        job_id=job.terms.digest(),
        worker=worker.address,
        deadline=_later(protocol),
    )
    protocol.send(
        "JobEscrow",
        "acceptJobFor",
        job.terms.as_abi(),
        worker.address,
        acceptance.deadline,
        list(acceptance.signature),
        sender=AGENT,
    )
    return job


def intake_request(
    protocol: Protocol,
    job: Job,
    worker: Worker,
    raw: bytes | None = None,
    inline: bool = True,
    deadline: int | None = None,
) -> dict[str, Any]:
    """The JSON a worker POSTs to /v1/evidence: terms, hash, URI, its Evidence signature (and the bundle)."""
    raw = protocol.bundle(job) if raw is None else raw
    path = protocol.evidence_dir / f"{job.job_id}.json"
    path.write_bytes(raw)
    job.evidence_hash = keccak(raw)
    signed = sign_evidence(
        worker.key,
        chain_id=protocol.w3.eth.chain_id,
        escrow=protocol.addresses.escrow,
        job_id=job.terms.digest(),
        evidence_hash=job.evidence_hash,
        uri=path.as_uri(),
        deadline=deadline if deadline is not None else _later(protocol),
    )
    return {
        "terms": job.terms.model_dump(mode="json"),
        "evidence_hash": "0x" + job.evidence_hash.hex(),
        "uri": signed.uri,
        "worker": worker.address,
        "deadline": signed.deadline,
        "signature": compact_hex(signed.signature),
        **({"bundle": raw.decode()} if inline else {}),
    }


def hand_in(url: str, request: dict[str, Any], client: httpx.Client | None = None) -> httpx.Response:
    """POSTs evidence to a node's intake."""
    return (client or httpx).post(f"{url}/v1/evidence", json=request, timeout=10)


@dataclass(frozen=True)
class SentTx:
    """A transaction one of the nodes sent, as mined."""

    sender: str
    function: str  # by selector; "other" for anything else
    succeeded: bool
    block: int


def transactions_from(w3: Web3, senders: set[str], first_block: int) -> list[SentTx]:
    """Every transaction of `senders` mined from `first_block` to the head, with its receipt's status."""
    found = []
    for number in range(first_block, w3.eth.block_number + 1):
        transactions: list[Any] = list(w3.eth.get_block(number, full_transactions=True)["transactions"])
        for tx in transactions:
            if tx["from"] in senders:
                status = w3.eth.get_transaction_receipt(tx["hash"])["status"]
                name = SELECTORS.get(bytes(tx["input"])[:4], "other")
                found.append(SentTx(tx["from"], name, status == 1, number))
    return found


def _later(protocol: Protocol) -> int:
    return int(protocol.w3.eth.get_block("latest")["timestamp"]) + 3_600
