"""What only a live network gets: no public test keys, no file:// evidence, no test faucet, and each
transaction waits for the network's confirmations through ape's node provider.

"Amoy" here is an anvil with Amoy's chain id, USDC-like code at Amoy's USDC address and a block
every second, behind a proxy that names its client as Polygon's node software does.
"""

import json
import time

from devtools.accounts import CONFIRMER, DEPLOYER, address_of, key_of
from devtools.chain import Anvil, place_contract, rpc_call
from devtools.protocol import run_deploy, run_ops
from devtools.rpc_proxy import RpcProxy
from protocol_core.deployment import USDC_BY_NETWORK
from protocol_core.evidence import Outcome, build_bundle
from protocol_core.terms import JobTerms, Requirements

from .cli_helpers import keystore_env, one_line_error

AMOY_CONFIRMATIONS = 12  # ape-config.yaml


def test_live_network_refuses_test_keys_file_uris_and_the_faucet_and_waits_for_confirmations(
    project, tmp_path
):
    chain = Anvil(tmp_path, chain_id=80002, block_time=1, name="amoy")
    chain.start()
    try:
        place_contract(chain.url, project.TestUSDC.contract_type.deployment_bytecode.bytecode, _usdc())
        deployments = _deployment_recorded_as_amoy(chain.url, tmp_path)
        escrow = json.loads(deployments.read_text())["polygon:amoy"]["escrow"]
        env = keystore_env(tmp_path / "ape", "governance", DEPLOYER)
        with RpcProxy(chain.url) as amoy:
            status = run_ops(amoy.url, deployments, "status")
            assert status.returncode == 0, status.stderr
            assert status.stdout.splitlines()[0].endswith("chain id 80002: polygon:amoy)")

            refused = run_ops(amoy.url, deployments, "quorum", "1", account="TEST::0")
            one_line_error(
                refused, "TEST::0 is a test account whose key is public; on polygon:amoy sign with a keystore"
            )
            mint = ("token", "mint", address_of(DEPLOYER), "1", "--yes")
            one_line_error(
                run_ops(amoy.url, deployments, *mint, account="governance", env=env), "token mint works only"
            )
            job, bundle = _job_and_bundle(tmp_path, escrow)
            submit = ("job", "submit", str(job), str(bundle), "--yes")
            one_line_error(
                run_ops(amoy.url, deployments, *submit, account="governance", env=env),
                "a file:// URI is readable only by a node on this machine; on polygon:amoy serve",
            )

            sent = run_ops(amoy.url, deployments, "quorum", "1", "--yes", account="governance", env=env)
        assert sent.returncode == 0, sent.stderr + sent.stdout
        mined_in = int(sent.stdout.split("block ")[-1].split(")")[0])
        assert int(rpc_call(chain.url, "eth_blockNumber"), 16) - mined_in >= AMOY_CONFIRMATIONS
    finally:
        chain.kill()


def _usdc() -> str:
    return USDC_BY_NETWORK["polygon:amoy"]


def _deployment_recorded_as_amoy(rpc: str, tmp_path):
    """Deploys on the anvil itself (a fork, to the commands) and records the same contracts as Amoy's."""
    deployments = tmp_path / "deployments.json"
    result = run_deploy(rpc, deployments)
    assert result.returncode == 0, result.stderr + result.stdout
    record = json.loads(deployments.read_text())
    deployments.write_text(json.dumps({"polygon:amoy": record.pop("polygon:amoy-fork")}))
    return deployments


def _job_and_bundle(tmp_path, escrow: str):
    """A job file and a confirmed evidence bundle for it, as `job post` and `evidence confirm` write them."""
    terms = JobTerms(
        agent=address_of(1), reward=20_000_000, confirmer=address_of(CONFIRMER), oracle_fee=0, protocol_fee=0,
        accept_by=int(time.time()) + 3600, resolve_by=int(time.time()) + 7200, spec_hash=b"\x01" * 32,
        requirements=Requirements(language=0),
    )  # fmt: skip
    job_id = "0x" + terms.digest().hex()
    job = tmp_path / "job.json"
    record = {
        "job_id": job_id,
        "network": "polygon:amoy",
        "escrow": escrow,
        "terms": terms.model_dump(mode="json"),
    }
    job.write_text(json.dumps(record))
    bundle = build_bundle(
        key_of(CONFIRMER), chain_id=80002, escrow=escrow, job_id=terms.digest(), ticket_ref="T-1",
        outcome=Outcome.RESOLVED, confirmed_at=int(time.time()), summary="",
    )  # fmt: skip
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle.canonical())
    return job, path
