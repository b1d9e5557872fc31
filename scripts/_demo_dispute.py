"""The demo's arbitration: the agent disputes an approval and a drawn panel rules on it."""

from ape import chain

from devtools.arbitration import run_round
from protocol_core.enums import RulingOption
from scripts._demo_jobs import USDC, console

PANEL_VOTES = (
    RulingOption.REFUND_AGENT,
    RulingOption.REFUND_AGENT,
    RulingOption.PAY_WORKER,
)  # the drawn panel splits 2-1 for the agent


def run_dispute(row: dict, agent, arbitrators: dict, system) -> None:
    """The agent disputes an approval; a drawn panel votes by commit and reveal; the ruling settles."""
    escrow, pool, oracle = system.escrow, system.arbitrator, system.oracle
    terms = row["terms"]
    fee, bond = escrow.disputeCost(terms.reward)
    # The agent posts with permits and keeps no standing allowance: it approves what the dispute costs.
    approval = system.token.approve(escrow, fee + bond, sender=agent)
    tx = escrow.dispute(terms.as_abi(), False, sender=agent)
    dispute_id = escrow.disputeOf(terms.digest())[0]
    console.rule(f"[bold]dispute of {row['ticket']}")
    console.print(
        f"the agent disputes the approval by {row['attested_by']}: fee {fee / USDC:.2f} + bond "
        f"{bond / USDC:.2f} USDC, dispute #{dispute_id}"
    )
    gas = [approval.gas_used, tx.gas_used]
    votes = iter(PANEL_VOTES)
    choices: dict[str, int] = {}

    def vote(arbitrator: str) -> int:
        if arbitrator not in choices:
            choices[arbitrator] = next(votes)
        return choices[arbitrator]

    panel = run_round(pool, chain, dispute_id, arbitrators, vote, gas)
    ruling = pool.currentRuling(dispute_id)[0]
    console.print(
        f"panel {', '.join(a[:8] for a in panel)} voted {sorted(choices.values())}: ruling {ruling}"
    )
    chain.mine(timestamp=pool.roundOf(dispute_id, 0).appealEnd + 1)
    gas.append(pool.executeRuling(dispute_id, sender=agent).gas_used)
    before = [oracle.operatorOf(op).stake for op in row["attesters"]]  # from the chain's Attested logs
    gas.append(escrow.settle(terms.as_abi(), sender=agent).gas_used)
    slashed = sum(b - oracle.operatorOf(op).stake for b, op in zip(before, row["attesters"], strict=True))
    console.print(
        f"the ruling overturned the verdict: {row['attested_by']} slashed {slashed / USDC:.2f} USDC in all"
    )
    row["gas"] += sum(gas)
    row["transactions"] += len(gas)
    row["pending"] = False
    row["outcome"] = (
        f"disputed: agent refunded by a 3-arbitrator panel; oracle slashed {slashed / USDC:.0f} USDC"
    )
