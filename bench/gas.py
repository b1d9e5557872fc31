"""Gas per lifecycle step on a local anvil; prints a table and writes bench/out/gas.json.

Measured with TestFiatToken behind its ERC-1967 proxy, which costs what Polygon's native USDC
costs per transfer; `--token test-usdc` measures with the cheaper TestUSDC, for comparison only.
`paid_ticket_total` is the relayed happy path as the desk runs it: its post (one permit for the
rest of the day's budget, then plain posts from that allowance; the permit's cost is shared by the
posts it covers, `permit_amortised_per_ticket`) + relayed acceptance + `submitAndAttest` with a 2-of-3
quorum and the payout. A permit on every post, and the fallbacks (the worker's own transactions,
relayed evidence on its own, one transaction per attestation) are measured beside it.
"""

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ape import accounts, chain, networks, project
from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from devtools.arbitration import run_round
from devtools.system import deploy_fiat_usdc, deploy_local
from protocol_core.eip712 import sign_attestation, sign_permit
from protocol_core.enums import RulingOption
from protocol_core.relayed import sign_acceptance, sign_evidence
from protocol_core.terms import JobTerms, Requirements

OUT = Path(__file__).parent / "out" / "gas.json"
# The desk's default daily_budget (escalation/desk/settings.py; bench/escalation.py shadows that package
# here): what its first permit of a day covers.
DESK_DAILY_BUDGET = 1_000_000_000
WARMUP_JOBS = 2  # first jobs pay one-off zero-to-nonzero writes (balances, credits)
DISPUTE_RUNS = 5
# What each --token choice deploys, and how the figures name it.
TOKENS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "fiat": (
        "TestFiatToken (FiatToken-like, ERC1967 proxy)",
        lambda deployer: deploy_fiat_usdc(project, deployer),
    ),
    "test-usdc": (
        "TestUSDC (plain ERC-20: no proxy, no blacklist reads, unlimited allowance never written)",
        lambda deployer: deployer.deploy(project.TestUSDC),
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token", choices=sorted(TOKENS), default="fiat", help="settlement token double")
    parser.add_argument("--out", type=Path, default=OUT, help="where the figures are written")
    args = parser.parse_args()
    label, deploy_token = TOKENS[args.token]
    console = Console()
    with networks.parse_network_choice("polygon:local:foundry"):
        figures = measure(console, deploy_token)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"token": label, **figures}, indent=2) + "\n")
    table = Table(title=f"Gas per step (steady state on anvil), token: {label}")
    table.add_column("step")
    table.add_column("gas", justify="right")
    for key, value in figures.items():
        table.add_row(key, f"{value:,}")
    console.print(table)
    console.print(f"written to {args.out}")


def measure(console: Console, deploy_token: Callable[[Any], Any]) -> dict[str, int]:
    test_accounts = accounts.test_accounts
    deployer, agent, worker, treasury, relayer = (
        test_accounts[0],
        test_accounts[1],
        test_accounts[2],
        test_accounts[3],
        test_accounts[4],
    )
    operators = [test_accounts.generate_test_account() for _ in range(3)]
    signer_keys = {}
    usdc = deploy_token(deployer)
    system = deploy_local(project, deployer, treasury=treasury, token=usdc)
    escrow, oracle = system.escrow, system.oracle
    for op in operators:
        deployer.transfer(op, 10**18)
        oracle.addOperator(op, sender=deployer)
        usdc.mint(op, 10**9, sender=op)
        usdc.approve(oracle, 10**9, sender=op)
        oracle.stake(10**9, sender=op)
        signer_keys[str(op.address)] = op.private_key
    usdc.mint(agent, 10**12, sender=agent)
    usdc.approve(escrow, 2**256 - 1, sender=agent)
    system.registry.register(1, 1, 50, keccak(b"key"), "ipfs://w", sender=worker)

    def new_terms(challenge_window: int = 0) -> JobTerms:
        now = chain.pending_timestamp
        oracle_fee, protocol_fee = escrow.quote(40_000_000)
        return JobTerms(
            agent=str(agent.address),
            reward=40_000_000,
            oracle_fee=oracle_fee,
            protocol_fee=protocol_fee,
            accept_by=now + 3600,
            resolve_by=now + 7200,
            challenge_window=challenge_window,
            spec_hash=keccak(os.urandom(32)),
            requirements=Requirements(language=0, expertise=1),
        )

    def through_submit(terms: JobTerms) -> tuple[bytes, list[int]]:
        post = escrow.postJob(terms.as_abi(), sender=agent)
        accept = escrow.acceptJob(terms.as_abi(), sender=worker)
        evidence = keccak(os.urandom(32))
        submit = escrow.submitEvidence(terms.digest(), evidence, "ipfs://bafy-evidence-bundle", sender=worker)
        return evidence, [post.gas_used, accept.gas_used, submit.gas_used]

    def separate(terms: JobTerms) -> list[int]:
        evidence, gas = through_submit(terms)
        for op in operators[:2]:
            tx = oracle.attest(terms.digest(), evidence, True, 0, terms.as_abi(), sender=op)
            gas.append(tx.gas_used)
        return gas

    def aggregated(terms: JobTerms) -> list[int]:
        evidence, gas = through_submit(terms)
        signatures = [
            sign(oracle, signer_keys[str(op.address)], terms.digest(), evidence) for op in operators[:2]
        ]
        tx = oracle.attestWithSignatures(
            terms.digest(), evidence, True, 0, terms.as_abi(), signatures, sender=operators[0]
        )
        return [*gas, tx.gas_used]

    def settled_after_window(terms: JobTerms) -> int:
        """Gas of `settle` paying an approved worker once the challenge window has passed."""
        separate(terms)
        chain.mine(timestamp=chain.pending_timestamp + terms.challenge_window + 1)
        return escrow.settle(terms.as_abi(), sender=treasury).gas_used

    def relayed_acceptance(terms: JobTerms) -> int:
        """The worker's signed acceptance of a posted job, sent by a relayer."""
        signed = sign_acceptance(
            worker.private_key, chain_id=chain.chain_id, escrow=str(escrow.address), job_id=terms.digest(),
            worker=str(worker.address), deadline=chain.pending_timestamp + 600,
        )  # fmt: skip
        return escrow.acceptJobFor(
            terms.as_abi(), worker, signed.deadline, list(signed.signature), sender=relayer
        ).gas_used

    def worker_evidence(terms: JobTerms) -> Any:
        return sign_evidence(
            worker.private_key, chain_id=chain.chain_id, escrow=str(escrow.address), job_id=terms.digest(),
            evidence_hash=keccak(os.urandom(32)), uri="ipfs://bafy-evidence-bundle",
            deadline=chain.pending_timestamp + 600,
        )  # fmt: skip

    def relayed(terms: JobTerms) -> list[int]:
        """The three transactions of a paid ticket: post, relayed acceptance, submitAndAttest."""
        post = escrow.postJob(terms.as_abi(), sender=agent).gas_used
        accept = relayed_acceptance(terms)
        evidence = worker_evidence(terms)
        signatures = [sign(oracle, signer_keys[str(op.address)], terms.digest(), evidence.evidence_hash)
                      for op in operators[:2]]  # fmt: skip
        tx = oracle.submitAndAttest(
            terms.as_abi(), evidence.as_abi(), True, 0, signatures, sender=operators[0]
        )
        return [post, accept, tx.gas_used]

    def relayed_evidence_alone(terms: JobTerms) -> int:
        """The fallback when operators cannot combine: the worker's signed evidence, relayed alone."""
        escrow.postJob(terms.as_abi(), sender=agent)
        relayed_acceptance(terms)
        return escrow.submitEvidenceFor(
            terms.digest(), worker_evidence(terms).as_abi(), sender=relayer
        ).gas_used

    # FiatToken says its EIP-712 version; OpenZeppelin's ERC20Permit answers it in eip712Domain()
    permit_version = usdc.version() if hasattr(usdc, "version") else usdc.eip712Domain()[2]

    def post_with_permit(terms: JobTerms, value: int | None = None) -> int:
        """`postJobWithPermit` for `value` (default: the job's total) by an agent with no allowance left."""
        usdc.approve(escrow, 0, sender=agent)
        permit = sign_permit(
            agent.private_key, token_name=usdc.name(), chain_id=chain.chain_id, token=str(usdc.address),
            owner=str(agent.address), spender=str(escrow.address), value=value or terms.total,
            nonce=usdc.nonces(agent), deadline=chain.pending_timestamp + 600, version=permit_version,
        )  # fmt: skip
        tx = escrow.postJobWithPermit(
            terms.as_abi(), permit.value, permit.deadline, permit.v, permit.r, permit.s, sender=agent
        )
        return tx.gas_used

    def desk_day() -> list[int]:
        """The desk's posts over a day at the default policy: one permit for the day's budget, then plain
        posts from that allowance until it no longer covers a ticket."""
        spent = [post_with_permit(new_terms(), DESK_DAILY_BUDGET)]
        while usdc.allowance(agent, escrow) >= new_terms().total:
            spent.append(escrow.postJob(new_terms().as_abi(), sender=agent).gas_used)
        usdc.approve(escrow, 2**256 - 1, sender=agent)
        return spent

    for _ in range(WARMUP_JOBS):
        separate(new_terms())
        aggregated(new_terms())
        settled_after_window(new_terms(challenge_window=600))
        relayed(new_terms())
        relayed_evidence_alone(new_terms())
    post, accept, submit, attest_first, attest_final = separate(new_terms())
    *_, aggregated_final = aggregated(new_terms())
    settle = settled_after_window(new_terms(challenge_window=600))
    relayed_post, accept_for, submit_and_attest = relayed(new_terms())
    submit_for = relayed_evidence_alone(new_terms())
    permit_post = post_with_permit(new_terms())
    usdc.approve(escrow, 2**256 - 1, sender=agent)
    desk_day()  # warm-up
    desk_posts = desk_day()
    desk_post = sum(desk_posts) // len(desk_posts)  # a ticket's share of the day's posts
    plain_post = sorted(desk_posts[1:])[
        len(desk_posts[1:]) // 2
    ]  # median plain post from the permit's allowance
    base = post + accept + submit

    pool = system.arbitrator
    arbitrators = {}
    for _ in range(10):
        arbitrator = test_accounts.generate_test_account()
        deployer.transfer(arbitrator, 10**18)
        usdc.mint(arbitrator, 100_000_000, sender=arbitrator)
        usdc.approve(pool, 100_000_000, sender=arbitrator)
        pool.stake(100_000_000, sender=arbitrator)
        arbitrators[str(arbitrator.address)] = arbitrator

    def disputed(terms: JobTerms) -> tuple[int, int]:
        """An approval the agent disputes; returns (dispute id, gas of the dispute transaction)."""
        separate(terms)
        tx = escrow.dispute(terms.as_abi(), False, sender=agent)
        return tx.return_value or escrow.disputeOf(terms.digest())[0], tx.gas_used

    def dispute_path(terms: JobTerms) -> int:
        """Open + draw 3 + 3 commits + 3 reveals + tally + ruling delivered + payouts."""
        dispute_id, gas = disputed(terms)
        spent = [gas]
        run_round(pool, chain, dispute_id, arbitrators, lambda _a: RulingOption.REFUND_AGENT, spent)
        chain.mine(timestamp=pool.roundOf(dispute_id, 0).appealEnd + 1)
        spent.append(pool.executeRuling(dispute_id, sender=agent).gas_used)
        spent.append(escrow.settle(terms.as_abi(), sender=agent).gas_used)
        return sum(spent)

    def appeal_round(terms: JobTerms) -> int:
        """Appeal + draw 7 + 7 commits + 7 reveals + tally, after a first round the agent lost."""
        dispute_id, _ = disputed(terms)
        run_round(pool, chain, dispute_id, arbitrators, lambda _a: RulingOption.PAY_WORKER)
        spent = [escrow.appeal(terms.as_abi(), sender=agent).gas_used]
        run_round(pool, chain, dispute_id, arbitrators, lambda _a: RulingOption.REFUND_AGENT, spent)
        return sum(spent)

    def arbitrator_own(terms: JobTerms) -> tuple[int, int, int]:
        """One seat's own transactions: the costliest commit and reveal of a panel of three, then the
        claim of a coherent voter's rewards into a wallet that holds no token (its stake is all in)."""
        dispute_id, _ = disputed(terms)
        spent: list[int] = []
        panel = run_round(pool, chain, dispute_id, arbitrators, lambda _a: RulingOption.REFUND_AGENT, spent)
        chain.mine(timestamp=pool.roundOf(dispute_id, 0).appealEnd + 1)
        pool.executeRuling(dispute_id, sender=agent)
        claim = pool.withdraw(sender=arbitrators[panel[0]]).gas_used
        return max(spent[1:4]), max(spent[4:7]), claim

    dispute_path(new_terms(challenge_window=600))  # warm-up
    # Panels are drawn at random, so the cost varies a little with who sits: report the worst of five.
    dispute_runs = [dispute_path(new_terms(challenge_window=600)) for _ in range(DISPUTE_RUNS)]
    dispute_total = max(dispute_runs)
    appeal_total = appeal_round(new_terms(challenge_window=600))
    arbitrator_commit, arbitrator_reveal, arbitrator_claim = arbitrator_own(new_terms(challenge_window=600))
    return {
        "paid_ticket_total": desk_post + accept_for + submit_and_attest,
        "post_as_the_desk_runs_it": desk_post,
        "accept_relayed": accept_for,
        "submit_and_attest_2of3_with_payout": submit_and_attest,
        "post_plain_from_the_permits_allowance": plain_post,
        "permit_amortised_per_ticket": desk_post - plain_post,
        "tickets_per_permit": len(desk_posts),
        "post_with_permit_for_the_days_budget": desk_posts[0],
        "paid_ticket_total_standing_allowance": relayed_post + accept_for + submit_and_attest,
        "paid_ticket_total_permit_on_every_post": permit_post + accept_for + submit_and_attest,
        "post": post,
        "post_with_permit": permit_post,
        "accept": accept,
        "submit": submit,
        "submit_relayed": submit_for,
        "attest": attest_first,
        "attest_final_with_payout": attest_final,
        "settle": settle,
        "attest_aggregated_2of3_with_payout": aggregated_final,
        "happy_path_total": base + aggregated_final,
        "happy_path_total_separate_attestations": base + attest_first + attest_final,
        "paid_ticket_total_relayed_evidence_then_aggregated": post
        + accept_for
        + submit_for
        + aggregated_final,
        "paid_ticket_total_relayed_evidence_then_separate": post
        + accept_for
        + submit_for
        + attest_first
        + attest_final,
        "dispute_path_total": dispute_total,
        "dispute_path_mean": sum(dispute_runs) // len(dispute_runs),
        "appeal_round_total": appeal_total,
        "arbitrator_commit": arbitrator_commit,
        "arbitrator_reveal": arbitrator_reveal,
        "arbitrator_commit_and_reveal": arbitrator_commit + arbitrator_reveal,
        "arbitrator_claim": arbitrator_claim,
    }


def sign(oracle, private_key: str, job_id: bytes, evidence: bytes) -> list[bytes]:
    """An operator's approval, signed off chain like an oracle node would."""
    return sign_attestation(
        private_key,
        chain_id=chain.chain_id,
        oracle=str(oracle.address),
        job_id=job_id,
        evidence_hash=evidence,
        approve=True,
        reason=0,
        set_nonce=oracle.setNonce(),
    )


if __name__ == "__main__":
    sys.exit(main())
