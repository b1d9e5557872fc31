"""Every `arbitrator` command refuses bad input in one line with exit code 2: money refusals, arguments,
settings, deployments, salts, keys and votes in this process (a key held in memory) on the session
chain; the keystore's refusals (a wrong passphrase) from a real process, which is what unlocks it."""

import sqlite3

from click.testing import CliRunner
from eth_account import Account

from arbitration.cli import cli
from devtools.arbitrators import Arbitrator
from protocol_core.deployment import save_deployment
from tests.arbitration.conftest import refused


def test_money_commands_refuse_with_the_numbers(make_cli, system, deployer):
    run = make_cli()
    assert refused(run("stake", "5")) == "arbitrator: stake refused: your wallet holds 0, less than 5"
    assert refused(run("unstake", "5")) == "arbitrator: unstake refused: you have 0 staked, less than 5"
    assert refused(run("withdraw")) == "arbitrator: nothing to withdraw: no unstaked tokens and no rewards"
    assert (
        refused(run("claim"))
        == "arbitrator: nothing to claim: no rewards credited (rulings pay when executed)"
    )
    shown = run("status")
    assert shown.exit_code == 0 and "warning: nothing staked: stake at least " in shown.output
    system.token.mint(run.address, 1, sender=deployer)
    assert refused(run("stake", "1")) == (  # the pool's own refusal, named by the dry run
        "arbitrator: stake refused: it would leave you outside the pool's minimum and maximum stake"
    )


def in_process(*args: str, **env: str) -> str:
    """The one line of a command refused before it reaches the chain or a key."""
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


def test_vote_reveal_and_open_refusals(make_cli):
    run = make_cli()
    unknown = refused(run("vote", "999", "worker"))
    assert unknown.startswith("arbitrator: no dispute 999 in the pool ") and "check the number" in unknown
    assert refused(run("reveal", "999")) == unknown
    assert run("cases").output == "no cases: not drawn yet (is `arbitrator watch` running?)\n"
    with sqlite3.connect(run.database) as db:  # a seat as the daemon would record it
        db.execute(
            "INSERT INTO arb_seats (dispute_id, round, commit_end, reveal_end, block_number, notified,"
            " committed_seen, revealed_seen, closed) VALUES (999, 0, 1, 2, 1, 1, 0, 0, 0)"
        )
    assert (
        refused(run("reveal", "999"))
        == "arbitrator: no vote stored for dispute 999: give --choice and --salt"
    )
    bad_salt = refused(run("reveal", "999", "--choice", "1", "--salt", "0x1234"))
    assert bad_salt == "arbitrator: wrong salt: give 0x and 64 hex digits"
    assert refused(run("reveal", "999", "--choice", "1", "--salt", "0xzz" + "0" * 62)) == bad_salt
    assert refused(run("open", "999")) == (
        "arbitrator: no X25519 key: pass --key-file or set ARBITRATOR_X25519_KEY_FILE"
    )


def test_keystore_refusals_from_a_real_process(tmp_path, chain, addresses):
    deployments = tmp_path / "deployments.json"
    save_deployment("polygon:local", addresses, deployments)
    runner = Arbitrator(tmp_path, chain.provider.http_uri, deployments, "arb", bytes(Account.create().key))
    runner.env["ARBITRATOR_PASSPHRASE"] = "not it"
    done = runner.run("status")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.strip().splitlines()[-1] == (
        "arbitrator: wrong passphrase for account 'arb': check ARBITRATOR_PASSPHRASE"
    )
