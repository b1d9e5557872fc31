"""`ape run deploy system` checks everything before its first transaction and fails in one line."""

import json

import pytest

from devtools.accounts import DEPLOYER, PASSPHRASE, address_of
from devtools.chain import Anvil
from devtools.protocol import run_ape, run_deploy
from protocol_core.deployment import load_deployments

from .cli_helpers import keystore_env, nonce, one_line_error


@pytest.fixture
def deployments(tmp_path):
    return tmp_path / "deployments.json"


def _nothing_sent(anvil, deployments) -> None:
    assert nonce(anvil.url, address_of(DEPLOYER)) == 0
    assert not deployments.exists()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0x1234", "--treasury: '0x1234' is not an address"),
        ("0x70997970c51812dc3a010c7d01b50e0d17dc79C8", "has a wrong EIP-55 checksum"),
        ("0x0000000000000000000000000000000000000000", "--treasury: the zero address"),
    ],
)
def test_bad_treasury_is_refused_before_the_first_transaction(anvil, deployments, value, expected):
    one_line_error(run_deploy(anvil.url, deployments, "--treasury", value), expected)
    _nothing_sent(anvil, deployments)


def test_wrong_passphrase_is_one_line(anvil, deployments, tmp_path):
    env = keystore_env(tmp_path / "ape", "deployer", DEPLOYER, passphrase="not the passphrase")
    result = run_deploy(anvil.url, deployments, "--yes", account="deployer", env=env)
    one_line_error(result, "wrong passphrase for account 'deployer' (from $ESCALATION_PASSPHRASE)")
    _nothing_sent(anvil, deployments)


def test_closed_stdin_at_the_passphrase_prompt_is_one_line(anvil, deployments, tmp_path):
    env = keystore_env(tmp_path / "ape", "deployer", DEPLOYER, passphrase=None)
    result = run_deploy(anvil.url, deployments, account="deployer", env=env)
    one_line_error(result, "no answer at the passphrase prompt")
    _nothing_sent(anvil, deployments)


def test_closed_stdin_at_the_signing_prompt_is_one_line(anvil, deployments, tmp_path):
    # The passphrase is known, but without --yes every transaction waits for a "Sign?" answer.
    env = keystore_env(tmp_path / "ape", "deployer", DEPLOYER)
    result = run_deploy(anvil.url, deployments, account="deployer", env=env)
    one_line_error(result, "no answer at the signing prompt")
    _nothing_sent(anvil, deployments)


def test_yes_without_a_passphrase_in_the_environment_is_one_line(anvil, deployments, tmp_path):
    env = keystore_env(tmp_path / "ape", "deployer", DEPLOYER, passphrase=None)
    result = run_deploy(anvil.url, deployments, "--yes", account="deployer", env=env)
    one_line_error(result, "--yes signs without asking and needs the passphrase of 'deployer'")
    _nothing_sent(anvil, deployments)


def test_unknown_account_is_one_line(anvil, deployments, tmp_path):
    result = run_deploy(anvil.url, deployments, account="nobody", env={"APE_DATA_FOLDER": str(tmp_path)})
    one_line_error(result, "no ape account 'nobody': import its key with `ape accounts import nobody`")


def test_corrupt_deployments_file_is_one_line(anvil, deployments):
    deployments.write_text('{"polygon:local": {"token": ')
    one_line_error(run_deploy(anvil.url, deployments), "is not a readable deployments file")
    assert nonce(anvil.url, address_of(DEPLOYER)) == 0


def test_network_other_than_the_rpcs_is_refused(anvil, deployments):
    result = run_deploy(anvil.url, deployments, "--network", "polygon:amoy")
    expected = f"--network polygon:amoy was asked for, but the RPC at {anvil.url} is polygon:local"
    one_line_error(result, expected)
    _nothing_sent(anvil, deployments)


def test_no_rpc_is_refused_instead_of_falling_back_to_public_endpoints(deployments):
    # Without an RPC, ape's node provider would pick one of its built-in public Amoy endpoints.
    result = run_ape(
        "run", "deploy", "system", "--network", "polygon:amoy", "--account", "TEST::0",
        "--deployments-file", str(deployments), env={"ESCALATION_RPC_URL": ""},
    )  # fmt: skip
    one_line_error(result, "no RPC: pass --rpc-url URL")
    assert not deployments.exists()


def test_yes_deploys_with_a_keystore_without_any_prompt(deployments, tmp_path):
    """Scripted use: stdin is closed, the passphrase comes from the environment, and it says its RPC."""
    chain = Anvil(tmp_path, name="own")  # its own chain: the module's must stay untouched
    chain.start()
    try:
        env = keystore_env(tmp_path / "ape", "deployer", DEPLOYER, passphrase=PASSPHRASE)
        result = run_deploy(chain.url, deployments, "--yes", account="deployer", env=env)
    finally:
        chain.kill()
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.splitlines()[0] == f"using RPC {chain.url} (anvil, chain id 31337: polygon:local)"
    recorded = load_deployments(deployments)["polygon:local"]
    assert recorded.deployer == address_of(DEPLOYER)
    assert json.loads(deployments.read_text())["polygon:local"]["escrow"] == recorded.escrow
