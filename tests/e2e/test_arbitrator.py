"""Three `arbitrator watch` processes drawn into a dispute the agent's desk (a real `escalation-desk run`)
brought: each finds and opens the case file the desk sealed to it with `arbitrator open`; two vote (one
killed -9 before its commit was signed and again with its commit in the mempool, the other with its
reveal in the mempool), one stays silent; each vote lands exactly once and in its phase, the keeper
daemon draws, tallies and executes, the coherent voters claim, the silent one loses its lock."""

import json
import sqlite3

from eth_account import Account
from eth_utils import keccak
from nacl.public import PrivateKey

from devtools.accounts import AGENT, key_of
from devtools.arbitrators import Arbitrator
from devtools.chain import rpc_call, wait_for
from devtools.desk import API_KEY, DeskDaemon
from devtools.pool_driver import PoolDriver
from devtools.protocol import Protocol
from escalation.desk.requests import DeskStatus
from escalation.desk.sdk import DeskClient
from protocol_core.case_index import case_files_in
from protocol_core.terms import JobTerms
from tests.desk.conftest import request

STAKE = 100_000_000


def _named_case_files(protocol):
    named = {}
    for e in protocol.contracts["JobEscrow"].events.Evidence.get_logs(from_block=0):
        named.update(case_files_in(e["args"]["evidence"]))
    return named


def _disputed_by_the_desk(protocol, desk, reason):
    """The desk escalates a ticket; worker 6 takes it and submits; two operators approve; the desk
    disputes the approval on the customer's word. Returns the dispute id and the ticket ref."""
    client, ticket = DeskClient(desk.url, API_KEY), request(challenge_window_s=3_600)
    desk_id = client.escalate(ticket).desk_id
    client.wait(desk_id, until={DeskStatus.OPEN}, timeout=60, poll=0.05)
    with sqlite3.connect(f"file:{desk.workdir / 'desk.db'}?mode=ro", uri=True) as db:
        (raw,) = db.execute("SELECT terms FROM desk_jobs WHERE desk_id = ?", (desk_id,)).fetchone()
    terms = JobTerms.model_validate_json(raw)
    protocol.send("JobEscrow", "acceptJob", terms.as_abi(), sender=6)
    evidence = keccak(b"bundle")
    protocol.send("JobEscrow", "submitEvidence", terms.digest(), evidence, "ipfs://bundle", sender=6)
    for operator in (3, 4):
        protocol.send(
            "VerificationOracle", "attest", terms.digest(), evidence, True, 0, terms.as_abi(), sender=operator
        )
    client.wait(desk_id, until={DeskStatus.APPROVED}, timeout=60, poll=0.05)
    view = client.dispute(desk_id, reason)
    client.wait(desk_id, until={DeskStatus.DISPUTED}, timeout=60, poll=0.05)
    return client.status(desk_id).dispute_id or view.dispute_id, ticket.ticket_ref


def test_three_daemons_vote_once_each_through_kills(deployed_anvil, deployed_state, tmp_path):
    url, addresses = deployed_anvil.url, deployed_state.addresses
    protocol = Protocol.connect(url, addresses, tmp_path / "evidence")
    driver = PoolDriver(protocol)
    pool, events = driver.pool, driver.events
    keys = {name: key_of(index) for name, index in (("a", 16), ("b", 17), ("c", 18))}
    (tmp_path / "desk").mkdir()
    desk = DeskDaemon(tmp_path / "desk", url, tmp_path / "deployments.json", key_of(AGENT)).start()
    x25519 = {n: PrivateKey.generate() for n in keys}
    for n, index in (("a", 16), ("b", 17), ("c", 18)):  # the key the desk seals case files to
        (tmp_path / f"{n}.x25519").write_text(bytes(x25519[n]).hex())
        protocol.send(
            "WorkerRegistry", "register", 1, 0, 1, bytes(x25519[n].public_key), "ipfs://a", sender=index
        )
        driver.stake(index, STAKE)
    arbs = {
        n: Arbitrator(
            tmp_path,
            url,
            tmp_path / "deployments.json",
            n,
            k,
            keeper=n == "a",
            votes_file=tmp_path / "b-votes.jsonl" if n == "b" else "",
            x25519_key_file=tmp_path / f"{n}.x25519",
            content_root=tmp_path / "desk" / "blobs",
        )
        for n, k in keys.items()
    }
    address = {n: str(Account.from_key(k).address) for n, k in keys.items()}
    dispute_id, ticket_ref = _disputed_by_the_desk(protocol, desk, "the customer was charged twice")
    for arb in arbs.values():
        arb.start()
    for arb in arbs.values():
        arb.wait_ready()
    driver.mine()
    driver.mine()  # the randomness is the hash of a block after the request: the keeper (a) draws
    for arb in arbs.values():
        wait_for(lambda arb=arb: arb.query("SELECT commit_end FROM arb_seats"), 60, f"{arb.name} drawn")
    commit_end, reveal_end = arbs["a"].query("SELECT commit_end, reveal_end FROM arb_seats")[0]

    # the desk seals a case file to each drawn arbitrator and names it in the dispute's evidence.
    wait_for(
        lambda: set(_named_case_files(protocol)) == {a.lower() for a in address.values()}, 60, "case files"
    )
    opening = [arb.spawn("open", str(dispute_id)) for arb in arbs.values()]  # each finds its own, no --case
    for process in opening:
        stdout, stderr = process.communicate(timeout=180)
        assert process.returncode == 0 and ticket_ref in stdout and "statement by" in stdout, stderr
        assert "the customer was charged twice" in stdout
        assert stdout.count(": approved, reason") == 2  # the two operators' verdicts

    # a: killed -9 before its vote exists; the vote (and its salt) is stored while it is down; the
    # restarted daemon signs the commit, and is killed -9 again with that commit in the mempool.
    rpc_call(url, "evm_setAutomine", False)
    arbs["a"].kill()
    assert arbs["a"].run("vote", str(dispute_id), "worker").returncode == 0
    (salt,) = arbs["a"].query("SELECT salt FROM arb_votes")
    (tmp_path / "b-votes.jsonl").write_text(json.dumps({"dispute_id": dispute_id, "choice": 1}) + "\n")
    arbs["a"].start()
    sent = "SELECT commit_state FROM arb_votes"
    wait_for(lambda: arbs["a"].query(sent) == [("sent",)], 60, "a's commit signed")
    arbs["a"].kill()
    arbs["a"].start()
    arbs["a"].wait_ready()
    wait_for(lambda: arbs["b"].query(sent) == [("sent",)], 60, "b's commit signed")
    driver.mine()
    wait_for(lambda: len(events("VoteCommitted", dispute_id)) == 2, 60, "two commits")

    # b: its reveal is in the mempool when it is killed -9.
    driver.mine(commit_end + 1)
    reveal_sent = "SELECT reveal_state FROM arb_votes"
    wait_for(lambda: arbs["b"].query(reveal_sent) == [("sent",)], 60, "b's reveal signed")
    arbs["b"].kill()
    arbs["b"].start()
    arbs["b"].wait_ready()
    wait_for(lambda: arbs["a"].query(reveal_sent) == [("sent",)], 60, "a's reveal signed")
    rpc_call(url, "evm_setAutomine", True)
    driver.mine()
    wait_for(lambda: len(events("VoteRevealed", dispute_id)) == 2, 60, "two reveals")

    # the keeper tallies after the reveal phase and executes after the appeal period.
    driver.mine(reveal_end + 1)
    wait_for(lambda: events("Tallied", dispute_id), 60, "the tally")
    driver.mine(events("Tallied", dispute_id)[0]["appealEnd"] + 1)
    wait_for(lambda: events("Rewarded", dispute_id), 60, "the ruling paid")

    committed, revealed = events("VoteCommitted", dispute_id), events("VoteRevealed", dispute_id)
    assert sorted(e["arbitrator"] for e in committed) == sorted([address["a"], address["b"]])
    assert sorted(e["arbitrator"] for e in revealed) == sorted([address["a"], address["b"]])
    stamp = {e["block"]: protocol.w3.eth.get_block(e["block"])["timestamp"] for e in committed + revealed}
    assert all(stamp[e["block"]] <= commit_end for e in committed)  # each in its phase
    assert all(commit_end < stamp[e["block"]] <= reveal_end for e in revealed)
    assert arbs["a"].query("SELECT salt FROM arb_votes") == [salt]  # the salt stored before the first kill
    for name in ("a", "b"):  # one transaction per step: no repeat after the kills
        steps = arbs[name].query(
            "SELECT commit_nonce, reveal_nonce, commit_state, reveal_state FROM arb_votes"
        )
        assert len(steps) == 1 and steps[0][2:] == ("done", "done")
    assert arbs["b"].query("SELECT count(*) FROM transactions") == [(2,)]
    penalized = events("Penalized", dispute_id)
    assert [(e["arbitrator"], e["penalty"]) for e in penalized] == [
        (address["c"], pool.functions.lockPerDraw().call())
    ]
    claims = {name: arbs[name].spawn("claim") for name in ("a", "b")}
    for name, process in claims.items():
        stdout, stderr = process.communicate(timeout=180)
        assert process.returncode == 0 and stdout.startswith("claimed "), stderr
        assert pool.functions.arbitratorOf(address[name]).call()[4] == 0
    for arb in arbs.values():
        assert arb.stop() == 0
    assert desk.stop() == 0
