"""Deploys and wires the protocol on the chain behind an RPC: `ape run deploy system --rpc-url URL`.

Everything is checked before the first transaction: the addresses given, the deployments file,
the RPC and which network it is, the signer and its passphrase, its gas money and, on Polygon,
Amoy and their forks, the native USDC at its known address. Failures are one line each.
"""

from pathlib import Path

import click
from ape import project
from ape.exceptions import ApeException, SignatureError
from web3 import Web3

from protocol_core.deployment import (
    DEFAULT_DEPLOYMENTS_FILE,
    Addresses,
    SystemParams,
    deploy_system,
    load_deployments,
    save_deployment,
    settlement_token,
)
from protocol_core.errors import ProtocolError
from protocol_core.validation import InvalidInput, optional_address
from scripts._rpc import connected, resolve, rpc_options
from scripts._session import DEPLOYMENTS_ENV, missing_code, no_code_message, recorded
from scripts._signer import load_signer, no_prompt_answer, signer_options

NAMES = ("token", "registry", "oracle", "escrow", "arbitrator", "randomness")
deployments_option = click.option(
    "--deployments-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_DEPLOYMENTS_FILE,
    envvar=DEPLOYMENTS_ENV,
    show_default=True,
    help=f"Where addresses are recorded per network (or ${DEPLOYMENTS_ENV}).",
)


@click.group()
def cli() -> None:
    """Deploy the escalation protocol on the chain behind --rpc-url and record its addresses."""


@cli.command()
@rpc_options
@signer_options
@click.option("--treasury", help="Receives protocol fees (default: the governance address).")
@click.option("--governance", help="Owner of escrow, oracle, registry and pool (default: the deployer).")
@deployments_option
@click.option("--redeploy", is_flag=True, help="Deploy again even when a recorded deployment has code.")
def system(rpc_url, network, account, yes, treasury, governance, deployments_file, redeploy):
    """Deploy pool, registry, oracle and escrow (and a test USDC on polygon:local), or reuse them."""
    try:
        _deploy(rpc_url, network, account, yes, treasury, governance, deployments_file, redeploy)
    except ProtocolError as err:
        raise click.ClickException(str(err)) from None


def _deploy(rpc_url, network, account, yes, treasury, governance, deployments_file, redeploy) -> None:
    governance = optional_address(governance, "--governance")
    treasury = optional_address(treasury, "--treasury")
    known = load_deployments(deployments_file)
    if not deployments_file.resolve().parent.is_dir():
        raise InvalidInput(f"--deployments-file: the folder of {deployments_file} does not exist")
    target = resolve(rpc_url, network)
    w3 = target.web3()
    previous = known.get(target.network)
    if previous is not None and not redeploy:
        if not (missing := missing_code(w3, previous)):
            click.echo(f"{target.network}: reusing the deployment recorded in {deployments_file}")
            _print_addresses(previous)
            return
        click.echo(f"{no_code_message(target, deployments_file, missing)}; deploying a new one")
    deployer = load_signer(account, yes, target)
    if w3.eth.get_balance(Web3.to_checksum_address(str(deployer.address))) == 0:
        raise InvalidInput(f"the deployer {deployer.address} has no native token for gas on {target.network}")
    click.echo(f"deploying as {deployer.address}")
    step = ["the settlement token"]

    def progress(name: str) -> None:
        step[0] = name
        click.echo(f"deploying {name}...")

    try:
        with connected(target):
            click.echo("resolving the settlement token...")
            token = settlement_token(project, deployer, target.network)
            deployed = deploy_system(
                project,
                deployer,
                token,
                SystemParams(),
                governance=governance,
                treasury=treasury,
                progress=progress,
            )
    except click.Abort:
        raise InvalidInput(f"stopped at {step[0]}: {no_prompt_answer('signing')}") from None
    except SignatureError:
        raise InvalidInput(f"stopped at {step[0]}: not signed at the prompt; nothing was recorded") from None
    except ApeException as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InvalidInput(f"deploying {step[0]} failed: {first}; nothing was recorded") from None
    addresses = deployed.addresses(str(deployer.address), SystemParams())
    save_deployment(target.network, addresses, deployments_file)
    click.echo(f"{target.network}: deployed and recorded in {deployments_file}")
    _print_addresses(addresses)


@cli.command()
@rpc_options
@deployments_option
def show(rpc_url, network, deployments_file):
    """Print the addresses recorded for the RPC's network and whether the chain has code at them."""
    try:
        target = resolve(rpc_url, network)
        addresses = recorded(target, deployments_file)
        missing = missing_code(target.web3(), addresses)
        _print_addresses(addresses, missing)
        if missing:
            raise InvalidInput(no_code_message(target, deployments_file, missing))
    except ProtocolError as err:
        raise click.ClickException(str(err)) from None


def _print_addresses(addresses: Addresses, missing: list[str] | None = None) -> None:
    for name in NAMES:
        mark = "" if missing is None else ("  NO CODE" if name in missing else "  code ok")
        click.echo(f"  {name:<11} {getattr(addresses, name)}{mark}")
