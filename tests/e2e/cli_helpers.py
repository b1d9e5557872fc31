"""Assertions on the deploy and ops commands run as processes: one clear line, nothing sent."""

import subprocess
from pathlib import Path

from devtools.accounts import PASSPHRASE, key_of, write_keystore
from devtools.chain import rpc_call


def one_line_error(result: subprocess.CompletedProcess[str], expected: str) -> str:
    """The single `Error: ...` line of a failed command; it must contain `expected`, with no traceback."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    # A prompt that got no answer leaves its text on the line before the error.
    errors = [line for line in result.stderr.splitlines() if line.lstrip().startswith("Error: ")]
    assert len(errors) == 1, output
    assert expected in errors[0], output
    return errors[0]


def nonce(rpc: str, address: str) -> int:
    """Transactions `address` has sent on the chain at `rpc`."""
    return int(rpc_call(rpc, "eth_getTransactionCount", address, "latest"), 16)


def keystore_env(
    data_folder: Path, alias: str, index: int, passphrase: str | None = PASSPHRASE
) -> dict[str, str]:
    """An ape data folder holding a keystore of test account `index` as `alias`, and the env that uses it."""
    write_keystore(data_folder, alias, key_of(index))
    env = {"APE_DATA_FOLDER": str(data_folder), "ESCALATION_PASSPHRASE": ""}
    if passphrase is not None:
        env["ESCALATION_PASSPHRASE"] = passphrase
    return env
