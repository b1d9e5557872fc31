"""Indexer catch-up from block 0 with 10,000 workers and 10,000 jobs on anvil; writes bench/out/indexer.json.

The history is made fast (anvil's impersonation and batched sends, many transactions per block);
the figure is the real `indexer run` process from its start until its read model holds the head
block, and its peak resident memory (VmHWM) at that moment.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

# this file's folder would shadow the `indexer` package it measures
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from eth_abi import encode  # noqa: E402
from eth_utils import keccak  # noqa: E402

from devtools.accounts import AGENT  # noqa: E402
from devtools.chain import Anvil, wait_for  # noqa: E402
from devtools.indexer import IndexerProcess  # noqa: E402
from devtools.protocol import Protocol, deploy  # noqa: E402
from protocol_core.abi import abi  # noqa: E402
from protocol_core.terms import JobTerms, Requirements  # noqa: E402
from runtime.abi import function_selector  # noqa: E402
from runtime.rpc import JsonRpc  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "indexer.json"
PER_BLOCK = 200  # transactions per mined block (200 posts or registrations fit the 30M gas limit)
TERMS = "(address,uint96,address,uint64,uint64,address,uint40,uint40,uint32,bytes32,(uint8,uint64,uint32))"


def _mine_batches(rpc: JsonRpc, txs: list[dict]) -> None:
    for start in range(0, len(txs), PER_BLOCK):
        rpc.batch([("eth_sendTransaction", [tx]) for tx in txs[start : start + PER_BLOCK]])
        rpc.result("evm_mine")


def make_history(protocol: Protocol, rpc: JsonRpc, workers: int, jobs: int) -> None:
    """Registers `workers` impersonated workers and posts `jobs` open jobs from the agent."""
    rpc.result("evm_setAutomine", False)
    rpc.result("anvil_autoImpersonateAccount", True)
    registry, escrow = protocol.addresses.registry, protocol.addresses.escrow
    addresses = ["0x" + (0x10_0000 + i).to_bytes(20, "big").hex() for i in range(workers)]
    for start in range(0, workers, PER_BLOCK):
        rpc.batch([("anvil_setBalance", [a, hex(10**18)]) for a in addresses[start : start + PER_BLOCK]])
    register = function_selector(abi("WorkerRegistry"), "register")
    _mine_batches(rpc, [
        {"from": a, "to": registry, "gas": hex(300_000),
         "data": "0x" + (register + encode(["uint64", "uint64", "uint8", "bytes32", "string"],
                                          [1 << (i % 8), (i * 2654435761) % 2**16 | 1, 1 + i % 4,
                                           keccak(a.encode()), f"ipfs://w{i}"])).hex()}
        for i, a in enumerate(addresses)
    ])  # fmt: skip
    oracle_fee, protocol_fee = protocol.contracts["JobEscrow"].functions.quote(1_000_000).call()
    now = protocol.w3.eth.get_block("latest")["timestamp"]
    agent = protocol.account(AGENT)
    post = function_selector(abi("JobEscrow"), "postJob")
    first = protocol.w3.eth.get_transaction_count(agent)
    txs = []
    for i in range(jobs):
        terms = JobTerms(
            agent=agent, reward=1_000_000, oracle_fee=oracle_fee, protocol_fee=protocol_fee,
            accept_by=now + 86_400, resolve_by=now + 2 * 86_400, spec_hash=keccak(i.to_bytes(8, "big")),
            requirements=Requirements(language=i % 8, expertise=1),
        )  # fmt: skip
        txs.append({"from": agent, "to": escrow, "gas": hex(400_000), "nonce": hex(first + i),
                    "data": "0x" + (post + encode([TERMS], [terms.as_abi()])).hex()})  # fmt: skip
    _mine_batches(rpc, txs)
    rpc.result("evm_setAutomine", True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        anvil = Anvil(work)
        anvil.start()
        indexer = None
        try:
            addresses = deploy(anvil.url, work / "deployments.json")
            protocol = Protocol.connect(anvil.url, addresses, work / "evidence")
            protocol.send("TestUSDC", "mint", protocol.account(AGENT), 10**15, sender=AGENT)
            protocol.send("TestUSDC", "approve", addresses.escrow, 2**256 - 1, sender=AGENT)
            rpc = JsonRpc.over_http(anvil.url, timeout=120)
            made = time.perf_counter()
            make_history(protocol, rpc, args.workers, args.jobs)
            history_s = time.perf_counter() - made
            head = protocol.w3.eth.block_number
            indexer = IndexerProcess(work, anvil.url, work / "deployments.json", poll=0.05)
            started = time.perf_counter()
            indexer.start()
            wait_for(
                lambda: indexer.ready("/healthz") and indexer.block() >= head, timeout=600, what="catch-up"
            )
            catch_up_s = time.perf_counter() - started
            assert indexer.process is not None
            status = Path(f"/proc/{indexer.process.pid}/status").read_text()
            rss_mb = (
                int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]) / 1024
            )
            rows = indexer.get("/v1/status")["rows"]
            assert rows["workers"] == args.workers and rows["jobs"] == args.jobs, rows
        finally:
            if indexer is not None:
                indexer.kill()
            anvil.kill()
    result = {
        "workers": args.workers, "jobs": args.jobs, "blocks": head, "catch_up_s": round(catch_up_s, 2),
        "rss_mb": round(rss_mb, 1), "history_generation_s": round(history_s, 1), "database": "sqlite",
        "goal": {"catch_up_s": 60, "rss_mb": 300},
    }  # fmt: skip
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
