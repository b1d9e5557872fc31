"""An `arbitrator watch` daemon following 100 concurrent disputes on a local anvil; writes
bench/out/arbitration.json.

Three arbitrators stake exactly enough for a seat in every panel, so each panel of three holds all of
them; the daemon runs the first one's key (the others stay silent). The disputes are opened straight
at the pool, as any arbitrable may: the bench measures the arbitrator's client, not the escrow. Once
every panel is drawn, the 100 votes are handed over in a votes file; the daemon commits them. Then one
block moves the chain's clock past every commit deadline, so all 100 reveal phases open at that block
(the burst is the hard case), and the daemon reveals. A poller sees each log within 10 ms:
`reveal_latency_*` runs from that block's mining to each reveal's log, `commit_latency_*` from the
votes file's writing to each commit's log. A vote counts as revealed when its reveal is mined inside
its reveal phase, after a commit mined inside its commit phase. Then the bench tallies and executes
every dispute, and `arbitrator claim` withdraws the rewards of the 100 coherent votes at once.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# this file's folder would shadow the `arbitration` package the daemon is
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from devtools.accounts import address_of, key_of  # noqa: E402
from devtools.arbitrators import Arbitrator  # noqa: E402
from devtools.chain import Anvil, wait_for  # noqa: E402
from devtools.log_clock import LogClock  # noqa: E402
from devtools.pool_driver import PoolDriver  # noqa: E402
from devtools.protocol import Protocol, deploy  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "arbitration.json"
ARBITRATORS = (16, 17, 18)  # test accounts; the daemon holds the first key
OPENER = 19  # opens the disputes and does the draws, tallies and rulings
CHOICE = 1  # every vote pays the worker
POLL_INTERVAL = 0.5  # the daemon's shipped default


def measure(disputes: int, workdir: Path) -> dict:
    anvil = Anvil(workdir)
    anvil.start()
    daemon: Arbitrator | None = None
    try:
        deployments = workdir / "deployments.json"
        protocol = Protocol.connect(anvil.url, deploy(anvil.url, deployments), workdir / "evidence")
        driver, me = PoolDriver(protocol), address_of(ARBITRATORS[0])
        lock = driver.pool.functions.lockPerDraw().call()
        for index in ARBITRATORS:
            driver.stake(index, lock * disputes)  # a seat in every panel, and no more
        votes = workdir / "votes.jsonl"
        daemon = Arbitrator(
            workdir, anvil.url, deployments, "arb", key_of(ARBITRATORS[0]),
            votes_file=votes, poll_interval=POLL_INTERVAL, gas_bump_seconds=15,
        )  # fmt: skip
        daemon.start()
        daemon.wait_ready()
        events = {name: getattr(driver.pool.events, name) for name in ("VoteCommitted", "VoteRevealed")}
        seat_of = lambda _name, args: (args["disputeId"], args["arbitrator"])  # noqa: E731
        with LogClock(driver.w3, events, seat_of) as clock:
            print(f"  opening and drawing {disputes} disputes...", flush=True)
            ids = driver.open_disputes(disputes, OPENER)
            driver.mine()
            driver.mine()  # the randomness is the hash of a block after the request
            driver.each("draw", ids, OPENER)
            seats = "SELECT count(*) FROM arb_seats"
            wait_for(lambda: daemon.query(seats) == [(disputes,)], 120, "the daemon's seats")
            given = time.monotonic()
            votes.write_text("".join(json.dumps({"dispute_id": i, "choice": CHOICE}) + "\n" for i in ids))
            mine_of = {name: lambda name=name: [k for k in clock.seen[name] if k[1] == me] for name in events}
            wait_for(lambda: len(mine_of["VoteCommitted"]()) == disputes, 300, "the commits")
            rounds = {i: driver.round(i) for i in ids}
            print("  opening every reveal phase at one block...", flush=True)
            driver.mine(max(r[4] for r in rounds.values()) + 1)
            opened = time.monotonic()
            deadline = opened + 600
            while len(mine_of["VoteRevealed"]()) < disputes and time.monotonic() < deadline:
                time.sleep(0.05)  # waiting for the daemon; the clock thread timestamps the logs
            reveal_latency = [clock.seen["VoteRevealed"][k] - opened for k in mine_of["VoteRevealed"]()]
            commit_latency = [clock.seen["VoteCommitted"][k] - given for k in mine_of["VoteCommitted"]()]
        committed, revealed, commit_gas, reveal_gas = _in_phase(driver, me, rounds)
        print("  tallying, executing and claiming...", flush=True)
        driver.mine(max(r[5] for r in rounds.values()) + 1)
        driver.each("tally", ids, OPENER)
        driver.mine(max(driver.round(i)[6] for i in ids) + 1)
        driver.each("executeRuling", ids, OPENER)
        claimed = daemon.run("claim")
        assert claimed.returncode == 0, claimed.stderr
        claim_tx = claimed.stdout.strip().rsplit("(", 1)[1].rstrip(")")
        claim_gas = driver.w3.eth.get_transaction_receipt(claim_tx)["gasUsed"]  # type: ignore[arg-type]
        return {
            "disputes": disputes,
            "daemons": 1,
            "panel_size": 3,
            "daemon_poll_interval_s": POLL_INTERVAL,
            "votes_expected": disputes,
            "votes_committed": committed,
            "votes_revealed": revealed,
            "reveal_latency_p50_s": round(statistics.median(reveal_latency), 3),
            "reveal_latency_p99_s": round(_p99(reveal_latency), 3),
            "reveal_latency_max_s": round(max(reveal_latency), 3),
            "commit_latency_p50_s": round(statistics.median(commit_latency), 3),
            "commit_latency_p99_s": round(_p99(commit_latency), 3),
            "commit_gas_max": max(commit_gas),
            "reveal_gas_max": max(reveal_gas),
            "commit_and_reveal_gas_max": max(c + r for c, r in zip(commit_gas, reveal_gas, strict=True)),
            "claim_gas": claim_gas,
            "claim_covers_disputes": disputes,
            "claim_token": "TestUSDC, a plain ERC-20 (bench/gas.py measures claims with the FiatToken)",
        }
    finally:
        if daemon is not None:
            daemon.stop()
        anvil.kill()


def _in_phase(driver: PoolDriver, me: str, rounds: dict[int, list]) -> tuple[int, int, list[int], list[int]]:
    """My commits mined in their commit phase, my reveals mined in their reveal phase after such a
    commit, and the gas of each commit and reveal, from the chain."""
    stamps: dict[int, int] = {}

    def at(block: int) -> int:
        if block not in stamps:
            stamps[block] = driver.w3.eth.get_block(block)["timestamp"]
        return stamps[block]

    def gas(tx: str) -> int:
        return int(driver.w3.eth.get_transaction_receipt(tx)["gasUsed"])  # type: ignore[arg-type]

    commits = {e["disputeId"]: e for e in driver.events("VoteCommitted") if e["arbitrator"] == me}
    reveals = {e["disputeId"]: e for e in driver.events("VoteRevealed") if e["arbitrator"] == me}
    good_commits = {i for i, e in commits.items() if at(e["block"]) <= rounds[i][4]}
    good_reveals = {
        i for i, e in reveals.items() if i in good_commits and rounds[i][4] < at(e["block"]) <= rounds[i][5]
    }
    return (
        len(good_commits),
        len(good_reveals),
        [gas(e["tx"]) for e in commits.values()],
        [gas(e["tx"]) for e in reveals.values()],
    )


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--disputes", type=int, default=100, help="concurrent disputes (100 for the report)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="arbitration-bench-") as workdir:
        figures = measure(args.disputes, Path(workdir))
    figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=2) + "\n")
    print(
        f"{figures['votes_revealed']} of {figures['votes_expected']} votes revealed in phase "
        f"({figures['votes_committed']} committed in phase); reveal latency p50 "
        f"{figures['reveal_latency_p50_s']} s, p99 {figures['reveal_latency_p99_s']} s; gas per seat "
        f"commit {figures['commit_gas_max']:,} + reveal {figures['reveal_gas_max']:,}; one claim of "
        f"{args.disputes} rewards {figures['claim_gas']:,} (load {figures['load_average_after'][0]})"
    )
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
