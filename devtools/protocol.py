"""A web3 driver of every role against a standalone chain: deploy by the project's script, then set
up, post, accept, submit and read, with anvil's unlocked test accounts."""

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import function_abi_to_4byte_selector, keccak, to_checksum_address
from web3 import Web3

from protocol_core.abi import abi
from protocol_core.deployment import Addresses, load_deployments
from protocol_core.evidence import Outcome, build_bundle
from protocol_core.terms import JobTerms, Requirements

from .accounts import AGENT, CONFIRMER, DEPLOYER, OPERATORS, WORKERS, address_of, key_of

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run_ape(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`ape <args>` as a real process in the repository (where `ape run` finds scripts/)."""
    return subprocess.run(
        [str(BIN / "ape"), *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})}, input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )  # fmt: skip


def run_deploy(
    rpc: str, deployments: Path, *extra: str, account: str = "TEST::0", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`ape run deploy system` as a real process against the chain at `rpc`."""
    return run_ape(
        "run", "deploy", "system", "--rpc-url", rpc, "--account", account,
        "--deployments-file", str(deployments), *extra, env=env,
    )  # fmt: skip


def run_ops(
    rpc: str,
    deployments: Path,
    *args: str,
    account: str | None = None,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`ape run ops <args>` as a real process against the chain at `rpc`."""
    signer = ("--account", account) if account else ()
    return run_ape(
        "run", "ops", *args, "--rpc-url", rpc, "--deployments-file", str(deployments), *signer,
        env=env, stdin=stdin,
    )  # fmt: skip


def deploy(rpc: str, deployments: Path) -> Addresses:
    """Deploys the system with the project's deploy script and returns the recorded addresses."""
    result = run_deploy(rpc, deployments)
    assert result.returncode == 0, result.stderr + result.stdout
    return load_deployments(deployments)["polygon:local"]


@dataclass
class Job:
    """A job driven by the test: its terms, id and the evidence its worker submitted."""

    terms: JobTerms
    worker: str
    evidence_hash: bytes = b""

    @property
    def job_id(self) -> str:
        return "0x" + self.terms.digest().hex()


@dataclass
class Protocol:
    """The deployed system driven through web3 with anvil's unlocked test accounts."""

    w3: Web3
    addresses: Addresses
    evidence_dir: Path
    contracts: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def connect(cls, rpc: str, addresses: Addresses, evidence_dir: Path) -> "Protocol":
        w3 = Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": 30}))
        protocol = cls(w3, addresses, evidence_dir)
        for name, address in (
            ("JobEscrow", addresses.escrow),
            ("VerificationOracle", addresses.oracle),
            ("WorkerRegistry", addresses.registry),
            ("TestUSDC", addresses.token),
        ):
            protocol.contracts[name] = w3.eth.contract(address=to_checksum_address(address), abi=abi(name))
        evidence_dir.mkdir(parents=True, exist_ok=True)
        return protocol

    def account(self, index: int) -> str:
        return address_of(index)

    def send(self, contract: str, function: str, *args: Any, sender: int, gas: int = 1_500_000) -> dict:
        """Sends a transaction from test account `sender` and returns its receipt (it must succeed)."""
        call = getattr(self.contracts[contract].functions, function)(*args)
        tx_hash = call.transact({"from": self.account(sender), "gas": gas})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
        assert receipt["status"] == 1, f"{contract}.{function} reverted"
        return dict(receipt)

    def set_up(self, quorum: int = 2, operators: tuple[int, ...] = OPERATORS) -> None:
        """Operators staked and in the set, workers registered, the agent funded."""
        oracle, min_stake = self.contracts["VerificationOracle"], None
        min_stake = oracle.functions.minStake().call()
        for op in operators:
            self.send("VerificationOracle", "addOperator", self.account(op), sender=DEPLOYER)
            self.send("TestUSDC", "mint", self.account(op), min_stake, sender=op)
            self.send("TestUSDC", "approve", oracle.address, min_stake, sender=op)
            self.send("VerificationOracle", "stake", min_stake, sender=op)
        self.send("VerificationOracle", "setQuorum", quorum, sender=DEPLOYER)
        for worker in WORKERS:
            self.send(
                "WorkerRegistry", "register", 0b1, 0b1, 200, keccak(b"x25519"), "ipfs://w", sender=worker
            )
        self.send("TestUSDC", "mint", self.account(AGENT), 10**15, sender=AGENT)
        self.send("TestUSDC", "approve", self.addresses.escrow, 2**256 - 1, sender=AGENT)

    def post(self, worker: int, reward: int = 20_000_000, confirmer: int | None = CONFIRMER) -> Job:
        """Posts and accepts a job offered to `worker`."""
        job = self.post_open(self.account(worker), reward, confirmer)
        self.send("JobEscrow", "acceptJob", job.terms.as_abi(), sender=worker)
        return job

    def post_open(self, worker: str, reward: int = 20_000_000, confirmer: int | None = CONFIRMER) -> Job:
        """Posts a job offered to the address `worker`, who has not accepted it yet."""
        escrow = self.contracts["JobEscrow"]
        oracle_fee, protocol_fee = escrow.functions.quote(reward).call()
        now = self.w3.eth.get_block("latest")["timestamp"]
        terms = JobTerms(
            agent=self.account(AGENT), reward=reward,
            confirmer=self.account(confirmer) if confirmer is not None else "0x" + "00" * 20,
            oracle_fee=oracle_fee, protocol_fee=protocol_fee, offered_to=worker,
            accept_by=now + 86_400, resolve_by=now + 2 * 86_400, challenge_window=0,
            spec_hash=keccak(os.urandom(32)), requirements=Requirements(language=0, expertise=0b1),
        )  # fmt: skip
        self.send("JobEscrow", "postJob", terms.as_abi(), sender=AGENT)
        return Job(terms=terms, worker=worker)

    def bundle(self, job: Job, outcome: Outcome = Outcome.RESOLVED, signer: int = CONFIRMER) -> bytes:
        """The canonical bytes of the customer's signed confirmation for `job`."""
        return build_bundle(
            key_of(signer), chain_id=self.w3.eth.chain_id, escrow=self.addresses.escrow,
            job_id=job.terms.digest(), ticket_ref=f"T-{job.job_id[2:10]}", outcome=outcome,
            confirmed_at=int(time.time()), summary="Refund issued; customer confirmed by signature.",
        ).canonical()  # fmt: skip

    def submit(self, job: Job, raw: bytes | None = None, uri: str | None = None) -> dict:
        """Writes the bundle under the evidence folder and submits its hash and file:// URI."""
        raw = self.bundle(job) if raw is None else raw
        path = self.evidence_dir / f"{job.job_id}.json"
        path.write_bytes(raw)
        job.evidence_hash = keccak(raw)
        worker_index = next(i for i in WORKERS if self.account(i) == job.worker)
        return self.send("JobEscrow", "submitEvidence", job.job_id, job.evidence_hash,
                         uri or path.as_uri(), sender=worker_index)  # fmt: skip

    def submit_raw_uri(self, job: Job, raw_uri: bytes) -> dict:
        """Submits evidence whose URI is arbitrary bytes (the contract does not check UTF-8)."""
        job.evidence_hash = keccak(raw_uri)
        escrow = self.contracts["JobEscrow"]
        selector = escrow.get_function_by_name("submitEvidence").abi  # the same calldata, `string` as bytes
        data = function_abi_to_4byte_selector(selector) + encode(
            ["bytes32", "bytes32", "bytes"], [job.terms.digest(), job.evidence_hash, raw_uri]
        )
        tx_hash = self.w3.eth.send_transaction(
            {"from": job.worker, "to": escrow.address, "data": data, "gas": 500_000}
        )
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
        assert receipt["status"] == 1, "submitEvidence reverted"
        return dict(receipt)

    def status(self, job: Job) -> int:
        return int(self.contracts["JobEscrow"].functions.jobState(job.job_id).call()[0])

    def attestations(self, job: Job | None = None) -> list[dict]:
        """Every Attested log of the oracle (of one job), oldest first."""
        event = self.contracts["VerificationOracle"].events.Attested
        filters = {"jobId": job.job_id} if job is not None else None
        return [dict(e["args"]) | {"block": e["blockNumber"]}
                for e in event.get_logs(from_block=0, argument_filters=filters)]  # fmt: skip

    def rpc(self, method: str, *params: Any) -> Any:
        response = self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        assert "error" not in response, response
        return response.get("result")
