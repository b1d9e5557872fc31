"""Deploys and wires the protocol for a network: `ape run deploy system --network polygon:amoy:node`."""

from pathlib import Path

import click
from ape import project
from ape.cli import ConnectedProviderCommand, account_option

from protocol_core.deployment import (
    DEFAULT_DEPLOYMENTS_FILE,
    SystemParams,
    connect_system,
    deploy_system,
    load_deployments,
    save_deployment,
    settlement_token,
)
from protocol_core.errors import DeploymentError


@click.group()
def cli() -> None:
    """Deploy the escalation protocol and record its addresses."""


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--treasury", help="Receives protocol fees (default: the governance address).")
@click.option("--governance", help="Owner of escrow and oracle (default: the deployer).")
@click.option(
    "--deployments-file",
    type=click.Path(path_type=Path),
    default=DEFAULT_DEPLOYMENTS_FILE,
    show_default=True,
    help="Where addresses are recorded per network.",
)
@click.option("--redeploy", is_flag=True, help="Deploy again even when a recorded deployment has code.")
def system(ecosystem, network, provider, account, treasury, governance, deployments_file, redeploy):
    """Deploy registry, oracle and escrow (and a test USDC on a local chain), or reuse them."""
    key = f"{ecosystem.name}:{network.name}"
    recorded = load_deployments(deployments_file).get(key)
    if recorded and not redeploy and _has_code(provider, recorded):
        click.echo(f"{key}: reusing the deployment recorded in {deployments_file}")
        _print_addresses(recorded.__dict__)
        return
    try:
        click.echo("resolving the settlement token...")
        token = settlement_token(project, account, key)
        deployed = deploy_system(
            project,
            account,
            token,
            SystemParams(),
            governance=governance,
            treasury=treasury,
            progress=lambda name: click.echo(f"deploying {name}..."),
        )
    except DeploymentError as err:
        raise click.ClickException(str(err)) from err
    addresses = deployed.addresses(str(account.address), SystemParams())
    save_deployment(key, addresses, deployments_file)
    click.echo(f"{key}: deployed and recorded in {deployments_file}")
    _print_addresses(addresses.__dict__)


@cli.command(cls=ConnectedProviderCommand)
@click.option("--deployments-file", type=click.Path(path_type=Path), default=DEFAULT_DEPLOYMENTS_FILE)
def show(ecosystem, network, provider, deployments_file):
    """Print the recorded addresses for the network and whether they have code."""
    key = f"{ecosystem.name}:{network.name}"
    recorded = load_deployments(deployments_file).get(key)
    if recorded is None:
        raise click.ClickException(f"nothing recorded for {key}; run `ape run deploy system --network {key}`")
    connect_system(project, recorded)  # fails loudly when an address has no code
    _print_addresses(recorded.__dict__)


def _has_code(provider, recorded) -> bool:
    addresses = [recorded.token, recorded.registry, recorded.oracle, recorded.escrow, recorded.arbitrator]
    return all(len(provider.get_code(address)) > 0 for address in addresses)


def _print_addresses(entry: dict) -> None:
    for name in ("token", "registry", "oracle", "escrow", "arbitrator", "randomness"):
        click.echo(f"  {name:<11} {entry[name]}")
