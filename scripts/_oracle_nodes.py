"""The demo's oracle network: `oracle-node run` child processes, and the verdicts they reach on chain."""

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ape import chain
from eth_account import Account
from eth_typing import HexStr

from oracle_node.verdicts import Reason

PASSPHRASE = "demo passphrase"  # guards throwaway keystores of public test keys in a temp folder
KDF_COST = 2**14  # scrypt n; the default 2**18 costs ~0.5s of CPU per keystore, for keys that are public
READY_TIMEOUT = 60.0  # seconds for a node to load ape, check the deployment and catch up
STOP_TIMEOUT = 15.0  # seconds the nodes get to finish after SIGTERM before they are killed
POLL = 0.2  # seconds between looks at the processes and the chain
LOG_TAIL = 20  # lines of a node's log shown when it fails


class NodeFailure(SystemExit):
    """An oracle node exited or hung, or the nodes missed a deadline; the message shows their logs."""


@dataclass
class NodeProcess:
    """One oracle node: its operator, its metrics port, its log file and its process."""

    alias: str
    address: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def exit_code(self) -> int | None:
        """The process's exit code; None while it runs or before it was started."""
        return None if self.process is None else self.process.poll()

    def tail(self) -> str:
        """The last lines of the node's log."""
        lines = self.log_path.read_text(errors="replace").splitlines() if self.log_path.exists() else []
        return "\n".join(f"    {line}" for line in lines[-LOG_TAIL:]) or "    (empty log)"


class OracleNodes:
    """`oracle-node run` per operator (alias -> 0x private key) against one RPC; `with` always stops them."""

    def __init__(self, workdir: Path, rpc_url: str, deployments: Path, evidence: Path, keys: dict[str, str]):
        keystores = workdir / "ape" / "accounts"
        keystores.mkdir(parents=True, exist_ok=True)
        self._workdir = workdir
        self._env = {
            **os.environ,
            "APE_DATA_FOLDER": str(workdir / "ape"),
            "ORACLE_NODE_PASSPHRASE": PASSPHRASE,
            "ORACLE_NODE_FILE_ROOT": str(evidence),
            "ORACLE_NODE_POLL_INTERVAL": "0.1",
            "ORACLE_NODE_FETCH_BACKOFF": "0.1",
        }
        self._common = ["--network", "polygon:local:foundry", "--rpc-url", rpc_url]
        self._common += ["--deployments-file", str(deployments), "--confirmations", "0"]
        self.nodes: list[NodeProcess] = []
        for alias, key in keys.items():
            keyfile = Account.encrypt(HexStr(key), PASSPHRASE, iterations=KDF_COST)
            (keystores / f"{alias}.json").write_text(json.dumps(keyfile))
            address = Account.from_key(key).address
            self.nodes.append(NodeProcess(alias, address, _free_port(), workdir / f"{alias}.log"))
        self.exit_codes: dict[str, int] = {}  # filled by stop()
        self._started = 0.0

    def __enter__(self) -> "OracleNodes":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def name_of(self, address: str) -> str:
        """The alias of the node that signs as `address`."""
        return next((n.alias for n in self.nodes if n.address == str(address)), str(address)[:10])

    def start(self) -> None:
        """Starts every node without waiting; stop() is registered to run at exit as a backstop."""
        # ape's provider turns SIGTERM and SIGINT into atexit handlers, so a killed demo stops them too.
        atexit.register(self.stop)
        program = Path(sys.executable).with_name("oracle-node")
        executable = str(program) if program.exists() else shutil.which("oracle-node") or "oracle-node"
        for node in self.nodes:
            args = [executable, "run", "--account", node.alias, *self._common]
            args += ["--database-url", f"sqlite:///{self._workdir / node.alias}.db"]
            args += ["--metrics-port", str(node.port)]
            with node.log_path.open("ab") as log:
                node.process = subprocess.Popen(
                    args, cwd=self._workdir, env=self._env, stdout=log, stderr=log
                )
        self._started = time.monotonic()

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> float:
        """Waits until every node's /readyz answers 200; returns the seconds since start()."""
        waiting = list(self.nodes)
        while waiting:
            self.check()
            waiting = [node for node in waiting if not _ready(node.port)]
            if waiting and time.monotonic() - self._started > timeout:
                logs = "\n".join(f"  {n.alias} ({n.log_path}):\n{n.tail()}" for n in waiting)
                raise NodeFailure(f"oracle nodes not ready after {timeout:.0f}s:\n{logs}")
            if waiting:
                time.sleep(POLL)
        return time.monotonic() - self._started

    def check(self) -> None:
        """Fails with their logs when any node has exited."""
        exited = [node for node in self.nodes if node.exit_code() is not None]
        if exited:
            raise NodeFailure(
                "\n".join(
                    f"oracle node {n.alias} exited early with code {n.exit_code()}; "
                    f"last lines of {n.log_path}:\n{n.tail()}"
                    for n in exited
                )
            )

    def stop(self) -> None:
        """SIGTERM to every running node, then a wait; a node still running after it is killed."""
        for node in self.nodes:
            if node.process is not None and node.exit_code() is None:
                node.process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for node in self.nodes:
            if node.process is None:
                continue
            try:
                node.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait()
            self.exit_codes[node.alias] = node.process.returncode
        atexit.unregister(self.stop)


@dataclass
class Verdict:
    """The oracle's final verdict on one job and the attestations that landed for it."""

    approved: bool
    reason: Reason
    attesters: list[str]  # addresses of the operators on the winning side, in the order they attested
    dissenters: list[str] = field(default_factory=list)  # addresses that attested the other way
    gas: int = 0  # gas of every attestation that landed for the job


def await_verdicts(
    oracle: Any,
    nodes: OracleNodes,
    jobs: dict[bytes, str],
    from_block: int,
    deadline: float,
    progress: Callable[[str], None],
    on_verdict: Callable[[bytes, Verdict], None],
) -> dict[bytes, Verdict]:
    """Follows Attested and VerdictReached logs from `from_block` until every job in `jobs` has a verdict."""
    votes: dict[bytes, list[Any]] = {job: [] for job in jobs}
    verdicts: dict[bytes, Verdict] = {}
    started, cursor = time.monotonic(), from_block
    while len(verdicts) < len(jobs):
        nodes.check()
        head = chain.blocks.height
        if head >= cursor:
            for log in oracle.Attested.range(cursor, head + 1):
                votes.setdefault(bytes(log.jobId), []).append(log)
            for log in oracle.VerdictReached.range(cursor, head + 1):
                job = bytes(log.jobId)
                if job in jobs and job not in verdicts:
                    verdicts[job] = _verdict(log, votes[job])
                    on_verdict(job, verdicts[job])
            cursor = head + 1
        elapsed = time.monotonic() - started
        if len(verdicts) < len(jobs) and elapsed > deadline:
            missing = ", ".join(label for job, label in jobs.items() if job not in verdicts)
            logs = "\n".join(f"  {n.alias} ({n.log_path}):\n{n.tail()}" for n in nodes.nodes)
            raise NodeFailure(f"no verdict within {deadline:.0f}s for {missing}:\n{logs}")
        sent = Counter(nodes.name_of(log.operator) for logs in votes.values() for log in logs)
        progress(
            f"verdicts {len(verdicts)}/{len(jobs)} · attestations "
            + ", ".join(f"{node.alias} {sent[node.alias]}" for node in nodes.nodes)
            + f" · block {head} · {elapsed:.1f}s (deadline {deadline:.0f}s)"
        )
        if len(verdicts) < len(jobs):
            time.sleep(POLL)
    return verdicts


def _verdict(reached: Any, votes: list[Any]) -> Verdict:
    approved = bool(reached.approved)
    return Verdict(
        approved=approved,
        reason=Reason(int(reached.reason)),
        attesters=[str(v.operator) for v in votes if bool(v.approve) == approved],
        dissenters=[str(v.operator) for v in votes if bool(v.approve) != approved],
        gas=sum(chain.provider.get_receipt(v.transaction_hash).gas_used for v in votes),
    )


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=0.5) as response:
            return bool(response.status == 200)
    except OSError:  # refused while the node loads, or 503 (an HTTPError) until it has caught up
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
