"""`oracle-node run` with bad settings: one clear line on stderr and exit status 2, never a traceback."""

import json
import os
import socket
import subprocess

import pytest

from devtools.accounts import PASSPHRASE, write_keystores
from devtools.chain import free_port
from devtools.protocol import BIN
from protocol_core.deployment import Addresses, save_deployment

NOWHERE = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture
def setup(tmp_path):
    """Keystores and a deployments file whose addresses hold no code."""
    write_keystores(tmp_path / "ape", (3,))
    deployments = tmp_path / "deployments.json"
    save_deployment("polygon:local", Addresses(NOWHERE, NOWHERE, NOWHERE, NOWHERE, NOWHERE), deployments)
    return tmp_path, deployments


def _run(tmp_path, *args: str, passphrase: str | None = PASSPHRASE) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORACLE_NODE_")}
    env["APE_DATA_FOLDER"] = str(tmp_path / "ape")
    if passphrase is not None:
        env["ORACLE_NODE_PASSPHRASE"] = passphrase
    argv = [str(BIN / "oracle-node"), "run", "--database-url", f"sqlite:///{tmp_path}/node.db", *args]
    return subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def _one_line_error(result: subprocess.CompletedProcess, expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("oracle-node:")]
    assert len(lines) == 1 and expected in lines[0], result.stderr


def test_wrong_passphrase_says_which_variable_to_check(setup, anvil):
    tmp_path, deployments = setup
    args = ("--account", "op3", "--rpc-url", anvil.url, "--deployments-file", str(deployments))
    result = _run(tmp_path, *args, passphrase="not the passphrase")
    _one_line_error(result, "wrong passphrase for account 'op3': check ORACLE_NODE_PASSPHRASE")


def test_missing_passphrase_says_what_to_set(setup, anvil):
    tmp_path, deployments = setup
    args = ("--account", "op3", "--rpc-url", anvil.url, "--deployments-file", str(deployments))
    result = _run(tmp_path, *args, passphrase=None)
    _one_line_error(result, "set ORACLE_NODE_PASSPHRASE")


def test_unknown_account_says_how_to_import_one(setup, anvil):
    tmp_path, deployments = setup
    result = _run(
        tmp_path, "--account", "nobody", "--rpc-url", anvil.url, "--deployments-file", str(deployments)
    )
    _one_line_error(result, "ape accounts import nobody")


def test_unknown_network_is_named(setup):
    tmp_path, deployments = setup
    result = _run(tmp_path, "--network", "polygon:nowhere", "--account", "op3", "--deployments-file",
                  str(deployments))  # fmt: skip
    _one_line_error(result, "unknown network 'polygon:nowhere'")


def test_rpc_that_is_down_is_reported(setup):
    tmp_path, deployments = setup
    down = f"http://127.0.0.1:{free_port()}"
    result = _run(tmp_path, "--account", "op3", "--rpc-url", down, "--deployments-file", str(deployments))
    _one_line_error(result, "cannot reach the RPC")


def test_address_without_code_points_at_the_deployment(setup, anvil):
    tmp_path, deployments = setup
    result = _run(
        tmp_path, "--account", "op3", "--rpc-url", anvil.url, "--deployments-file", str(deployments)
    )
    _one_line_error(result, f"no contract at the escrow address {NOWHERE}")


def test_missing_deployment_says_how_to_deploy(setup, anvil):
    tmp_path, _ = setup
    empty = tmp_path / "none.json"
    empty.write_text(json.dumps({}))
    result = _run(tmp_path, "--account", "op3", "--rpc-url", anvil.url, "--deployments-file", str(empty))
    _one_line_error(result, "ape run deploy system")


def test_invalid_setting_value_is_named(setup):
    tmp_path, _ = setup
    result = _run(tmp_path, "--account", "op3", "--confirmations", "soon")
    _one_line_error(result, "invalid settings: confirmations")


def test_config_file_with_a_toml_syntax_error_names_the_file(setup):
    tmp_path, _ = setup
    config = tmp_path / "node.toml"
    config.write_text('rpc_url = "http://127.0.0.1:8545\n')
    result = _run(tmp_path, "--account", "op3", "--config", str(config))
    _one_line_error(result, f"--config {config}: not valid TOML")


def test_missing_file_root_folder_is_refused(setup, anvil):
    tmp_path, deployments = setup
    config = tmp_path / "node.toml"
    config.write_text(f'file_root = "{tmp_path / "no-such-folder"}"\n')
    args = ("--config", str(config), "--rpc-url", anvil.url, "--deployments-file", str(deployments))
    result = _run(tmp_path, "--account", "op3", *args)
    _one_line_error(result, f"file_root {tmp_path / 'no-such-folder'} is not a folder")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysqlx://nobody@127.0.0.1/db", "unknown database URL scheme 'mysqlx'"),
        ("sqlite:////no/such/folder/node.db", "cannot open the database"),
        ("postgresql+psycopg://nobody@127.0.0.1:{free_port}/db", "cannot open the database"),
    ],
)
def test_unusable_database_url_is_named(setup, anvil, url, expected):
    tmp_path, deployments = setup
    url = url.format(free_port=free_port())  # chosen when run: the collected test ids stay the same
    args = ("--database-url", url, "--rpc-url", anvil.url, "--deployments-file", str(deployments))
    result = _run(tmp_path, "--account", "op3", *args)
    _one_line_error(result, expected)


def test_live_network_needs_an_explicit_rpc_url(setup):
    tmp_path, deployments = setup
    result = _run(tmp_path, "--network", "polygon:amoy", "--account", "op3", "--deployments-file",
                  str(deployments))  # fmt: skip
    _one_line_error(result, "polygon:amoy is a live network: pass --rpc-url")


def test_metrics_port_in_use_is_named_and_the_rpc_is_logged(setup, deployed_state, deployed_anvil):
    tmp_path, _ = setup
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ("--rpc-url", deployed_anvil.url, "--deployments-file", str(deployed_state.deployments))
        result = _run(tmp_path, "--account", "op3", "--metrics-port", str(port), *args)
    _one_line_error(result, f"port {port} on 127.0.0.1 is in use")
    assert f"using RPC {deployed_anvil.url}" in result.stderr
