"""Every `arbitrator` command refuses bad input in one line on stderr with exit code 2, as real processes
against the session chain: money refusals, arguments, settings, deployments, salts, keys, votes."""

import sqlite3

import pytest
from click.testing import CliRunner
from eth_account import Account

from arbitration.cli import cli
from devtools.arbitrators import Arbitrator
from protocol_core.deployment import save_deployment
from tests.desk.conftest import addresses  # noqa: F401  (the session deployment's addresses)


@pytest.fixture
def arb(tmp_path, chain, addresses):  # noqa: F811
    deployments = tmp_path / "deployments.json"
    save_deployment("polygon:local", addresses, deployments)
    account = Account.create()
    chain.provider.set_balance(account.address, 10**20)
    return Arbitrator(tmp_path, chain.provider.http_uri, deployments, "arb", bytes(account.key)), account


def refused(arb: Arbitrator, *args: str, env: dict | None = None) -> str:
    """The one line a refused command prints; fails unless it exited 2 with exactly one line."""
    arb.env.update(env or {})
    done = arb.run(*args)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and done.stdout == "", (done.returncode, done.stdout, done.stderr)
    return lines[-1]


def test_money_commands_refuse_with_the_numbers(arb, system, deployer):
    runner, account = arb
    assert refused(runner, "stake", "5") == "arbitrator: stake refused: your wallet holds 0, less than 5"
    assert refused(runner, "unstake", "5") == "arbitrator: unstake refused: you have 0 staked, less than 5"
    assert refused(runner, "withdraw") == "arbitrator: nothing to withdraw: no unstaked tokens and no rewards"
    shown = runner.run("status")
    assert shown.returncode == 0 and "warning: nothing staked: stake at least " in shown.stdout
    system.token.mint(account.address, 1, sender=deployer)
    assert refused(runner, "stake", "1") == (  # the pool's own refusal, named by the dry run
        "arbitrator: stake refused: it would leave you outside the pool's minimum and maximum stake"
    )


def in_process(*args: str, **env: str) -> str:
    """The one line of a command refused before it reaches the chain, run in this process."""
    from arbitration import cli_money, cli_votes  # noqa: F401  (they register their commands)

    done = CliRunner().invoke(cli, list(args), env=env)
    assert done.exit_code == 2, (done.exit_code, done.output)
    return done.output.strip().splitlines()[-1]


def test_bad_arguments_settings_and_deployments(tmp_path):
    assert "'maybe' is not one of '0', '1', '2', 'agent', 'split', 'worker'" in in_process(
        "vote", "1", "maybe"
    )
    assert "Invalid value for 'DISPUTE_ID': 0 is not in the range x>=1" in in_process("vote", "0", "worker")
    assert in_process("stake", "-3") == "Error: No such option: -3"
    bad = in_process("status", ARBITRATOR_LOG_CHUNK="many")
    assert bad.startswith("arbitrator: invalid settings: ") and "log_chunk" in bad
    elsewhere = tmp_path / "other.json"
    elsewhere.write_text("{}")
    assert "no deployment with a pool for polygon:local" in in_process(
        "status", "--rpc-url", "http://127.0.0.1:9", "--deployments-file", str(elsewhere)
    )


def test_vote_reveal_and_open_refusals(arb):
    runner, _ = arb
    assert refused(runner, "vote", "999", "worker") == "arbitrator: not drawn in dispute 999"
    assert refused(runner, "reveal", "999") == "arbitrator: not drawn in dispute 999"
    runner.run("cases")  # creates the database; then a seat as the daemon would record it
    with sqlite3.connect(runner.database) as db:
        db.execute(
            "INSERT INTO arb_seats (dispute_id, round, commit_end, reveal_end, block_number, notified,"
            " committed_seen, revealed_seen, closed) VALUES (999, 0, 1, 2, 1, 1, 0, 0, 0)"
        )
    assert (
        refused(runner, "reveal", "999")
        == "arbitrator: no vote stored for dispute 999: give --choice and --salt"
    )
    bad_salt = refused(runner, "reveal", "999", "--choice", "1", "--salt", "0x1234")
    assert bad_salt == "arbitrator: wrong salt: give 0x and 64 hex digits"
    assert refused(runner, "reveal", "999", "--choice", "1", "--salt", "0xzz" + "0" * 62) == bad_salt
    assert refused(runner, "open", "999") == (
        "arbitrator: no X25519 key: pass --key-file or set ARBITRATOR_X25519_KEY_FILE"
    )
