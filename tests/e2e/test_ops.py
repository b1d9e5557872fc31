"""`ape run ops`: what governance, certifiers, operators and arbitrators do, as real processes on anvil;
each refusal is one line that says why. Tests use distinct accounts, so they share one deployment."""

import pytest

from devtools.accounts import DEPLOYER, address_of
from devtools.chain import Anvil
from devtools.protocol import deploy, run_ops

from .cli_helpers import one_line_error

GOV, STRANGER, CERTIFIER, WORKER = "TEST::0", "TEST::5", "TEST::7", "TEST::8"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """An anvil with the system deployed by `ape run deploy system`; yields (rpc, deployments file)."""
    workdir = tmp_path_factory.mktemp("ops")
    anvil = Anvil(workdir)
    anvil.start()
    try:
        deployments = workdir / "deployments.json"
        deploy(anvil.url, deployments)
        yield anvil.url, deployments
    finally:
        anvil.kill()


def ops(deployment, *args, account=None):
    rpc, deployments = deployment
    return run_ops(rpc, deployments, *args, account=account)


def ok(result) -> str:
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def test_governance_adds_and_removes_an_operator_and_nobody_else_may(deployment):
    operator = address_of(10)
    one_line_error(ops(deployment, "operator", "add", operator, account=STRANGER), "is not governance")
    assert "quorum 2: a verdict needs 2 matching" in ok(
        ops(deployment, "operator", "add", operator, account=GOV)
    )
    one_line_error(
        ops(deployment, "operator", "add", operator, account=GOV), f"{operator} is already an operator"
    )
    ok(ops(deployment, "operator", "remove", operator, account=GOV))
    one_line_error(
        ops(deployment, "operator", "remove", operator, account=GOV), f"{operator} is not an operator"
    )


def test_bad_arguments_are_refused_before_the_chain_is_asked(deployment):
    one_line_error(
        ops(deployment, "operator", "add", "0xabc", account=GOV), "ADDRESS: '0xabc' is not an address"
    )
    one_line_error(ops(deployment, "quorum", "0", account=GOV), "SIZE: 0 is outside 1..255")
    one_line_error(ops(deployment, "operator", "stake", "1.0000001", account=GOV), "has more than 6 decimals")


def test_quorum_says_how_many_nodes_must_run(deployment):
    assert "at least 3 node(s) must run" in ok(ops(deployment, "quorum", "3", account=GOV))
    ok(ops(deployment, "quorum", "2", account=GOV))


def test_certifier_role_and_certifications(deployment):
    worker = address_of(8)
    key = "0x" + "ab" * 32
    ok(ops(deployment, "worker", "register", "--languages", "en", "--encryption-key", key, account=WORKER))
    refused = ops(deployment, "certification", "grant", worker, "bit:0,2", account=CERTIFIER)
    one_line_error(refused, f"{address_of(7)} does not hold the certifier role")
    ok(ops(deployment, "certifier", "grant", address_of(7), account=GOV))
    granted = ok(ops(deployment, "certification", "grant", worker, "bit:0,2", account=CERTIFIER))
    assert f"{worker} now holds certifications 0b101" in granted
    assert "certifications 0b1\n" in ok(
        ops(deployment, "certification", "revoke", worker, "0b100", account=CERTIFIER)
    )
    ok(ops(deployment, "certifier", "revoke", address_of(7), account=GOV))
    one_line_error(ops(deployment, "certification", "grant", worker, "1", account=CERTIFIER), "does not hold")


def test_fees_within_the_caps_in_code(deployment):
    refused = ops(deployment, "fees", "set", "--protocol-bps", "2000", "--oracle-fee", "0.5", account=GOV)
    one_line_error(refused, "2000 is above the cap of 1000 fixed in the contract")
    ok(ops(deployment, "fees", "set", "--protocol-bps", "50", "--oracle-fee", "0.25", account=GOV))
    assert "50 bps of the reward + 0.25 USDC per job" in ok(ops(deployment, "status"))


def test_operator_stakes_unstakes_and_is_told_what_it_lacks(deployment):
    operator, signer = address_of(11), "TEST::11"
    ok(ops(deployment, "operator", "add", operator, account=GOV))
    one_line_error(
        ops(deployment, "operator", "stake", "100", account=signer), "holds 0 USDC but the stake needs 100"
    )
    ok(ops(deployment, "token", "mint", operator, "100", account=signer))
    assert "can attest  yes" in ok(ops(deployment, "operator", "stake", "100", account=signer))
    refused = ops(deployment, "operator", "unstake", "150", account=signer)
    one_line_error(refused, "asked for 150 USDC but 100 USDC is free")
    assert "unstaking   40 USDC, withdrawable from" in ok(
        ops(deployment, "operator", "unstake", "40", account=signer)
    )
    one_line_error(ops(deployment, "operator", "withdraw", account=signer), "but 0 USDC is free")
    published = ok(ops(deployment, "operator", "endpoint", "https://op11.example:8700", account=signer))
    assert "endpoint    https://op11.example:8700" in published  # where the other nodes find it


def test_arbitrator_stakes_within_the_pools_bounds(deployment):
    arbitrator, signer = address_of(9), "TEST::9"
    one_line_error(
        ops(deployment, "arbitrator", "stake", "10", account=signer), "outside the pool's 50..5000 USDC"
    )
    ok(ops(deployment, "token", "mint", arbitrator, "60", account=signer))
    assert f"arbitrator {arbitrator}: staked 60 USDC" in ok(
        ops(deployment, "arbitrator", "stake", "60", account=signer)
    )


def test_commands_name_their_rpc_and_the_governance_they_see(deployment):
    rpc, _ = deployment
    shown = ok(ops(deployment, "status"))
    assert shown.splitlines()[0] == f"using RPC {rpc} (anvil, chain id 31337: polygon:local)"
    assert f"governance  {address_of(DEPLOYER)} (escrow)" in shown
