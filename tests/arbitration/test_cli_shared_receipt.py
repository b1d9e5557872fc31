"""A command sent from the CLI beside a running daemon returns when its transaction is mined, whichever
of the two processes sharing the database recorded the receipt: a real `arbitrator stake` process is
paused (SIGSTOP) with its approval in the mempool while the daemon's tracker records it, then resumed."""

import dataclasses
import os
import signal

from eth_account import Account

from arbitration.settings import ArbitratorSettings
from arbitration.wiring import parts
from devtools.arbitrators import Arbitrator
from devtools.chain import rpc_call, wait_for
from protocol_core.deployment import save_deployment
from tests.contracts.arbitration_helpers import USDC
from tests.contracts.conftest import fresh_pool  # noqa: F401  (a pool with nobody staked)

STAKE = 50 * USDC  # the pool's minimum
PENDING = "SELECT nonce FROM transactions WHERE state = 'pending'"


def test_the_cli_returns_when_the_daemon_recorded_its_receipt_first(
    tmp_path,
    chain,
    addresses,
    usdc,
    deployer,
    fresh_pool,  # noqa: F811
):
    url, account = chain.provider.http_uri, Account.create()
    deployments = tmp_path / "deployments.json"
    pool = dataclasses.replace(addresses, arbitrator=str(fresh_pool.address))
    save_deployment("polygon:local", pool, deployments)
    chain.provider.set_balance(account.address, 10**20)
    usdc.mint(account.address, STAKE, sender=deployer)
    cli = Arbitrator(tmp_path, url, deployments, "arb", bytes(account.key))
    daemon = parts(  # the daemon's side of the database: its own tracker, as `arbitrator watch` has
        ArbitratorSettings(
            rpc_url=url, deployments_file=deployments, database_url=f"sqlite:///{cli.database}"
        ),
        account,
    )
    rpc_call(url, "evm_setAutomine", False)
    process = None
    try:
        process = cli.spawn("stake", str(STAKE))  # approves the pool first, then stakes
        wait_for(lambda: cli.query(PENDING) == [(0,)], 60, "the approval signed and sent")
        os.kill(process.pid, signal.SIGSTOP)
        rpc_call(url, "evm_mine")
        daemon.tracker().tick(daemon.chain.head())
        assert cli.query("SELECT state, succeeded FROM transactions") == [("mined", 1)]
    finally:
        rpc_call(url, "evm_setAutomine", True)  # the stake that follows is mined as it is sent
        if process is not None:
            os.kill(process.pid, signal.SIGCONT)
    try:
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()  # nothing once it has ended
    assert process.returncode == 0 and stdout.startswith(f"staked {STAKE} (0x"), stderr
    assert fresh_pool.arbitratorOf(account.address).staked == STAKE
