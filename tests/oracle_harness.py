"""Real processes for oracle-node tests and benchmarks: a standalone anvil, the deploy script, oracle
nodes, and a web3 driver playing agent, worker, customer and governance through anvil's unlocked keys."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_account import Account
from eth_utils import function_abi_to_4byte_selector, keccak, to_checksum_address
from servers import free_port
from web3 import Web3

from protocol_core.abi import abi
from protocol_core.deployment import Addresses, load_deployments
from protocol_core.evidence import Outcome, build_bundle
from protocol_core.terms import JobTerms, Requirements

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MNEMONIC = "test test test test test test test test test test test junk"
PASSPHRASE = "correct horse battery staple"
DEPLOYER, AGENT, CONFIRMER = 0, 1, 2
OPERATORS = (3, 4, 5)
WORKERS = tuple(range(6, 16))
Account.enable_unaudited_hdwallet_features()


def key_of(index: int) -> bytes:
    """The private key of the test mnemonic's account `index` (anvil's and ape's test accounts)."""
    return bytes(Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}").key)


def wait_for(condition: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Polls `condition` until it returns something truthy; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)  # polling interval of a condition, not a synchronisation guess
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


class Anvil:
    """anvil as a child process on a fixed loopback port; stop() dumps its state, start() reloads it."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._state = workdir / "anvil-state.json"
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        """Starts anvil (with the saved state, if any) and waits until it listens."""
        self._process = subprocess.Popen(
            ["anvil", "--host", "127.0.0.1", "--port", str(self.port), "--accounts", "20",
             "--state", str(self._state)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if "Listening on" in line:
                break
        else:
            raise AssertionError("anvil exited before listening")
        # Drain anvil's output so a full pipe never blocks it.
        subprocess.Popen(["cat"], stdin=self._process.stdout, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        """Stops anvil gracefully: it writes its state for the next start()."""
        if self._process is not None:
            self._process.send_signal(signal.SIGINT)
            self._process.wait(timeout=30)
            self._process = None

    def kill(self) -> None:
        """Ends anvil at once."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


def run_deploy(rpc: str, deployments: Path) -> subprocess.CompletedProcess[str]:
    """`ape run deploy system` as a real process against the anvil at `rpc`."""
    # ape-foundry connects to an anvil already listening at APE_FOUNDRY_HOST instead of starting one.
    return subprocess.run(
        [str(BIN / "ape"), "run", "deploy", "system", "--network", "polygon:local:foundry",
         "--account", "TEST::0", "--deployments-file", str(deployments)],
        cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "APE_FOUNDRY_HOST": rpc},
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
        return str(Account.from_key(key_of(index)).address)

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
        escrow = self.contracts["JobEscrow"]
        oracle_fee, protocol_fee = escrow.functions.quote(reward).call()
        now = self.w3.eth.get_block("latest")["timestamp"]
        terms = JobTerms(
            agent=self.account(AGENT), reward=reward,
            confirmer=self.account(confirmer) if confirmer is not None else "0x" + "00" * 20,
            oracle_fee=oracle_fee, protocol_fee=protocol_fee, offered_to=self.account(worker),
            accept_by=now + 86_400, resolve_by=now + 2 * 86_400, challenge_window=0,
            spec_hash=keccak(os.urandom(32)), requirements=Requirements(language=0, expertise=0b1),
        )  # fmt: skip
        self.send("JobEscrow", "postJob", terms.as_abi(), sender=AGENT)
        self.send("JobEscrow", "acceptJob", terms.as_abi(), sender=worker)
        return Job(terms=terms, worker=self.account(worker))

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


def write_keystores(data_folder: Path, operators: tuple[int, ...] = OPERATORS) -> list[str]:
    """ape keystores for the operators' keys (alias op<index>), encrypted with PASSPHRASE."""
    accounts_dir = data_folder / "accounts"
    accounts_dir.mkdir(parents=True, exist_ok=True)
    aliases = []
    for index in operators:
        keyfile = Account.encrypt(key_of(index), PASSPHRASE)
        (accounts_dir / f"op{index}.json").write_text(json.dumps(keyfile))
        aliases.append(f"op{index}")
    return aliases


class NodeProcess:
    """One `oracle-node run` as a child process with its own SQLite database and metrics port."""

    def __init__(
        self, workdir: Path, rpc: str, deployments: Path, alias: str, database_url: str = "", **settings: Any
    ) -> None:
        self.workdir, self.alias = workdir, alias
        self.database = workdir / f"{alias}.db"
        self.database_url = database_url or f"sqlite:///{self.database}"
        self.metrics_port = free_port()
        self.log_path = workdir / f"{alias}.log"
        self.env = {
            **os.environ,
            "APE_DATA_FOLDER": str(workdir / "ape"),
            "ORACLE_NODE_PASSPHRASE": PASSPHRASE,
            "ORACLE_NODE_FILE_ROOT": str(workdir / "evidence"),
            "ORACLE_NODE_POLL_INTERVAL": "0.05",
            "ORACLE_NODE_FETCH_BACKOFF": "0.05",
            **{f"ORACLE_NODE_{name.upper()}": str(value) for name, value in settings.items()},
        }
        self.args = [
            str(BIN / "oracle-node"), "run", "--network", "polygon:local:foundry", "--account", alias,
            "--rpc-url", rpc, "--deployments-file", str(deployments),
            "--database-url", self.database_url, "--metrics-port", str(self.metrics_port),
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Starts the node and waits until /readyz answers."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.args, cwd=self.workdir, env=self.env, stdout=log, stderr=log)
        wait_for(self.answers, what=f"{self.alias} to serve /healthz")

    def answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"{self.alias} exited with {self.process.returncode}:\n{self.log()}")
        try:
            with socket.create_connection(("127.0.0.1", self.metrics_port), timeout=0.5):
                return True
        except OSError:
            return False

    def kill(self) -> None:
        """kill -9."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        """SIGTERM, then wait for a clean exit."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def query(self, sql: str, *params: Any) -> list[tuple]:
        """Reads the node's database (WAL mode: never blocks the node)."""
        if not self.database.exists():
            return []
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=5) as db:
            try:
                return db.execute(sql, params).fetchall()
            except sqlite3.OperationalError:  # tables not created yet
                return []

    def scalar(self, sql: str, *params: Any, default: Any = 0) -> Any:
        """The first value of the first row, or `default` when there is none (yet)."""
        rows = self.query(sql, *params)
        return rows[0][0] if rows else default

    def cursor(self) -> int:
        return int(self.scalar("SELECT number FROM cursor", default=-1))
