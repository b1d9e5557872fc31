"""`arbitrator vote | reveal | stake | unstake | status` in this process (the CLI handed a key held in
memory, so no keystore is unlocked) against the session chain, on a pool of its own whose every panel
holds the arbitrator: each refusal is one line that says what to do, and the paths that succeed do."""

import threading

import pytest
from click.testing import Result

from devtools.chain import wait_for
from tests.arbitration.conftest import refused
from tests.contracts.arbitration_helpers import USDC, new_accounts, open_dispute, stake_new
from tests.contracts.conftest import fresh_pool  # noqa: F401  (a pool with nobody staked)

STAKE = 50 * USDC  # the pool's minimum: five seats' worth of locks


@pytest.fixture
def cli_run(make_cli, fresh_pool):  # noqa: F811
    return make_cli(fresh_pool)


def test_vote_and_reveal_refuse_in_one_line_and_succeed_when_due(
    chain,
    deployer,
    accounts,
    usdc,
    fresh_pool,  # noqa: F811
    cli_run,
    pool_logs,
):
    pool, me = fresh_pool, cli_run.address
    usdc.mint(me, STAKE, sender=deployer)
    assert cli_run("stake", str(STAKE)).exit_code == 0
    stake_new(accounts, usdc, pool, [STAKE] * 2)  # every panel of three is the three of us
    (claimant,) = new_accounts(accounts, usdc, 1, 100 * USDC)
    first, _ = open_dispute(pool, usdc, claimant)
    second, _ = open_dispute(pool, usdc, claimant)
    chain.mine(2)
    pool.draw(first, sender=claimant)
    pool.draw(second, sender=claimant)
    commit_end = max(pool.roundOf(d, 0).commitEnd for d in (first, second))

    voted = cli_run("vote", str(first), "worker", "--direct")
    assert voted.exit_code == 0 and voted.output.startswith(f"committed on dispute {first} (0x"), voted.output
    assert refused(cli_run("vote", str(first), "agent")) == (
        f"arbitrator: a vote is already given for dispute {first} round 0: it never changes"
    )
    assert refused(cli_run("reveal", str(first))).startswith(
        f"arbitrator: too early: dispute {first} reveals from "
    )
    assert refused(cli_run("unstake", "10")) == (
        "arbitrator: unstake refused: part of your stake is locked by disputes you are drawn in"
    )
    assert "warning: 20000000 locked by draws: an unstake is refused" in cli_run("status").output

    # a commit whose dry run passed is mined only after the commit phase: it reverts, and says so
    chain.provider.make_request("evm_setAutomine", [False])
    try:
        late: dict[str, Result] = {}
        thread = threading.Thread(
            target=lambda: late.update(r=cli_run("vote", str(second), "agent", "--direct"))
        )
        thread.start()
        wait_for(
            lambda: chain.provider.web3.eth.get_transaction_count(me, "pending") > 3, 60, "the commit sent"
        )
        chain.mine(timestamp=commit_end + 1)
    finally:
        chain.provider.make_request("evm_setAutomine", [True])
    thread.join(timeout=60)
    line = refused(late["r"])
    assert (
        line.startswith("arbitrator: the transaction 0x")
        and "reverted: the chain changed after the dry run" in line
    )
    assert len(pool_logs("VoteCommitted", second, pool)) == 0

    wrong = "0x" + "00" * 31 + "01"
    assert refused(cli_run("reveal", str(first), "--choice", "1", "--salt", wrong)) == (
        "arbitrator: wrong salt or choice: the reveal does not match your commitment; leave out --salt and "
        "--choice to reveal the vote stored when you gave it"
    )
    assert refused(cli_run("reveal", str(second))).startswith(
        f"arbitrator: nothing to reveal: your commit on dispute {second} failed (reverted: 0x"
    )
    revealed = cli_run("reveal", str(first))
    assert revealed.exit_code == 0 and pool_logs("VoteRevealed", first, pool)[0]["choice"] == 1
    assert refused(cli_run("reveal", str(first))) == (
        f"arbitrator: already revealed on dispute {first}: a vote is revealed once"
    )
    assert refused(cli_run("vote", str(first), "worker")).startswith(
        f"arbitrator: phase over: dispute {first} is in reveal, votes are given in commit (it ended at "
    )
    third, _ = open_dispute(pool, usdc, claimant)  # no panel yet
    assert refused(cli_run("vote", str(third), "worker")) == (
        f"arbitrator: not drawn in dispute {third}: only its panel votes "
        "(`arbitrator cases` lists your seats)"
    )
    assert refused(cli_run("vote", "999", "worker")) == (
        f"arbitrator: no dispute 999 in the pool {pool.address}: check the number "
        "(`arbitrator cases` lists the disputes you are drawn in)"
    )


def test_unreachable_rpc_is_one_line_naming_it(cli_run):
    line = refused(cli_run("status", rpc_url="http://127.0.0.1:9", ARBITRATOR_STARTUP_TIMEOUT="0"))
    assert line == (
        "arbitrator: RPC unreachable (ConnectionRefusedError): check that the node is up at "
        "http://127.0.0.1:9 (--rpc-url or ARBITRATOR_RPC_URL)"
    )
