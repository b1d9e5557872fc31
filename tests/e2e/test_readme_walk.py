"""The README's walk from an empty local chain to a first paid job, run as written, and what the README
says a real network changes, checked against the configuration and a real 2-of-3 oracle set."""

import os
import re
import signal
import subprocess

import yaml

from devtools.accounts import OPERATORS, WORKERS, address_of, key_of, write_keystore
from devtools.chain import Anvil, wait_for
from devtools.oracle_nodes import OracleNode
from devtools.protocol import REPO, Protocol, deploy, run_ops
from protocol_core.enums import JobStatus

README = REPO / "README.md"
BEGIN, END = "<!-- walk: begin -->", "<!-- walk: end -->"
README_RPC = "http://127.0.0.1:8545"
WALK_PASSPHRASE = "walk-passphrase"  # what the README exports and tells the reader to type
AMOY_BLOCK_SECONDS = 2.2


def walk_script() -> str:
    """The shell block between the walk markers of the README."""
    text = README.read_text()
    block = text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip()
    assert block.startswith("```sh") and block.endswith("```"), block[:40]
    return block.removeprefix("```sh").removesuffix("```")


def test_readme_walk_takes_an_empty_chain_to_a_first_paid_job(tmp_path):
    operator_key = "0x" + key_of(OPERATORS[0]).hex()
    script = walk_script()
    assert operator_key in script and script.count(README_RPC) == 1
    anvil = Anvil(tmp_path)
    anvil.start()
    (tmp_path / "walk.sh").write_text("set -euo pipefail\n" + script.replace(README_RPC, anvil.url))
    deployments = str(tmp_path / "deployments.json")  # not the repository's deployments.json
    env = {
        **os.environ,
        "APE_DATA_FOLDER": str(tmp_path / "ape"),
        "ESCALATION_DEPLOYMENTS_FILE": deployments,
        "ORACLE_NODE_DEPLOYMENTS_FILE": deployments,
        "TMPDIR": str(tmp_path),
    }
    # The reader pastes the key and types the passphrase twice at `ape accounts import operator`.
    answers = f"{operator_key}\n{WALK_PASSPHRASE}\n{WALK_PASSPHRASE}\n"
    walk = subprocess.Popen(
        ["bash", str(tmp_path / "walk.sh")], cwd=REPO, env=env, text=True, start_new_session=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = walk.communicate(answers, timeout=900)
    finally:
        _end_group(walk)  # the node of step 4 too, when the walk stopped before `kill $NODE`
        anvil.kill()
    assert walk.returncode == 0, output
    assert re.search(r"job 0x[0-9a-f]{64}: paid", output), output
    assert f"{address_of(WORKERS[0])} holds 20 USDC" in output, output
    assert "fees earned 0.5 USDC" in output, output


def test_readme_states_what_a_real_network_changes():
    text = " ".join(README.read_text().split())
    config = yaml.safe_load((REPO / "ape-config.yaml").read_text())
    depth = config["polygon"]["amoy"]["required_confirmations"]
    assert f"On Amoy a node acts on evidence {depth} confirmations deep" in text
    assert f"that is about {round(depth * AMOY_BLOCK_SECONDS)} s" in text
    assert "**At least `quorum` nodes must run.**" in text
    assert "One node of a 2-of-3 set attests, and the job then waits in `Submitted`" in text
    assert "(`job submit` refuses `file://` there)" in text


def test_one_node_of_a_two_of_three_set_leaves_the_job_submitted(tmp_path):
    """What the README says about the quorum, on a real chain with a real node and `ops job show`."""
    anvil = Anvil(tmp_path)
    anvil.start()
    deployments, evidence = tmp_path / "deployments.json", tmp_path / "evidence"
    node = None
    try:
        protocol = Protocol.connect(anvil.url, deploy(anvil.url, deployments), evidence)
        protocol.set_up(quorum=2, operators=OPERATORS)
        write_keystore(tmp_path / "ape", "op", key_of(OPERATORS[0]))
        node = OracleNode(tmp_path, anvil.url, deployments, "op", evidence=evidence).start()
        job = protocol.post(WORKERS[0])
        protocol.submit(job)
        wait_for(lambda: protocol.attestations(job), 60, "the one node's attestation")
        assert protocol.status(job) == JobStatus.SUBMITTED
        shown = run_ops(anvil.url, deployments, "job", "show", job.job_id)
        assert shown.returncode == 0, shown.stderr
        assert f"job {job.job_id}: submitted" in shown.stdout
        assert "votes     1 approve, 0 reject, quorum 2" in shown.stdout
    finally:
        if node is not None:
            node.stop()
        anvil.kill()


def _end_group(process: subprocess.Popen[str]) -> None:
    """SIGTERM to the process group this test started (the walk's shell and its background node)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if process.poll() is None:
        process.wait(timeout=30)
