"""Governance commands: the certifier role, certifications, fees, and a look at the deployment."""

import click

from protocol_core.validation import InvalidInput, address, bits, bounded, format_amount, token_amount

from ._session import ChainOptions, Session, chain_options, open_session

CERTIFICATION_BITS = 32  # uint32 certifications in a worker's profile
MAX_FEE_BPS = 10_000


@click.group()
def certifier() -> None:
    """Governance grants and revokes the registry's CERTIFIER_ROLE."""


@certifier.command("grant")
@chain_options(signs=True)
@click.argument("who", metavar="ADDRESS")
def grant_certifier(who: str, chain: ChainOptions) -> None:
    """Lets ADDRESS grant and revoke workers' certifications."""
    who = address(who, "ADDRESS")
    with open_session(chain, signs=True) as s:
        role = _certifier_role(s)
        s.send(s.call("WorkerRegistry", "grantRole", role, who), f"grant the certifier role to {who}")


@certifier.command("revoke")
@chain_options(signs=True)
@click.argument("who", metavar="ADDRESS")
def revoke_certifier(who: str, chain: ChainOptions) -> None:
    """Takes the certifier role from ADDRESS."""
    who = address(who, "ADDRESS")
    with open_session(chain, signs=True) as s:
        role = _certifier_role(s)
        s.send(s.call("WorkerRegistry", "revokeRole", role, who), f"revoke the certifier role of {who}")


@click.group()
def certification() -> None:
    """A certifier grants and revokes certification bits of a worker."""


@certification.command("grant")
@chain_options(signs=True)
@click.argument("worker", metavar="WORKER")
@click.argument("mask", metavar="BITS")
def grant_certification(worker: str, mask: str, chain: ChainOptions) -> None:
    """Adds the certification BITS (e.g. 1, 0b101 or bit:0,2) to WORKER's profile."""
    worker, value = address(worker, "WORKER"), bits(mask, "BITS", CERTIFICATION_BITS)
    with open_session(chain, signs=True) as s:
        _require_certifier(s)
        s.send(
            s.call("WorkerRegistry", "grantCertifications", worker, value),
            f"certify {worker} with {value:#b}",
        )
        click.echo(f"{worker} now holds certifications {s.registry.profile(worker).certifications:#b}")


@certification.command("revoke")
@chain_options(signs=True)
@click.argument("worker", metavar="WORKER")
@click.argument("mask", metavar="BITS")
def revoke_certification(worker: str, mask: str, chain: ChainOptions) -> None:
    """Removes the certification BITS from WORKER's profile."""
    worker, value = address(worker, "WORKER"), bits(mask, "BITS", CERTIFICATION_BITS)
    with open_session(chain, signs=True) as s:
        _require_certifier(s)
        s.send(
            s.call("WorkerRegistry", "revokeCertifications", worker, value), f"revoke {value:#b} of {worker}"
        )
        click.echo(f"{worker} now holds certifications {s.registry.profile(worker).certifications:#b}")


@click.group()
def fees() -> None:
    """Governance sets the protocol fee (basis points of the reward) and the flat oracle fee."""


@fees.command("set")
@chain_options(signs=True)
@click.option("--protocol-bps", type=int, required=True, help="Protocol fee in basis points of the reward.")
@click.option("--oracle-fee", required=True, help="Flat oracle fee per job in USDC, e.g. 0.5.")
def set_fees(protocol_bps: int, oracle_fee: str, chain: ChainOptions) -> None:
    """Sets the fees that jobs posted from now on pay (posted jobs keep theirs)."""
    bps = bounded(protocol_bps, "--protocol-bps", 0, MAX_FEE_BPS)
    units = token_amount(oracle_fee, "--oracle-fee")
    with open_session(chain, signs=True) as s:
        s.send(
            s.call("JobEscrow", "setFees", bps, units), f"set fees to {bps} bps + {format_amount(units)} USDC"
        )


@click.command("status")
@chain_options(signs=False)
def status(chain: ChainOptions) -> None:
    """The deployment on the RPC's chain: governance, fees, quorum, stakes."""
    with open_session(chain, signs=False) as s:
        escrow, oracle = s.contract("JobEscrow").functions, s.contract("VerificationOracle").functions
        pool = s.contract("ArbitrationPool").functions
        click.echo(f"deployment {s.target.network}: escrow {s.addresses.escrow}")
        click.echo(f"  governance  {escrow.owner().call()} (escrow), {oracle.owner().call()} (oracle)")
        click.echo(f"  treasury    {escrow.treasury().call()}")
        click.echo(
            f"  fees        {escrow.protocolFeeBps().call()} bps of the reward + "
            f"{format_amount(escrow.oracleFee().call())} USDC per job"
        )
        click.echo(f"  posting     {'paused' if escrow.paused().call() else 'open'}")
        click.echo(f"  quorum      {s.oracle.quorum()} (that many nodes must run and attest)")
        click.echo(f"  min stake   {format_amount(s.oracle.min_stake())} USDC per operator")
        click.echo(
            f"  arbitrators stake {format_amount(pool.minStake().call())}.."
            f"{format_amount(pool.maxStake().call())} USDC, {format_amount(pool.totalStake().call())} staked"
        )


def _certifier_role(s: Session) -> bytes:
    return bytes(s.contract("WorkerRegistry").functions.CERTIFIER_ROLE().call())


def _require_certifier(s: Session) -> None:
    if not s.contract("WorkerRegistry").functions.hasRole(_certifier_role(s), s.sender).call():
        raise InvalidInput(
            f"{s.sender} does not hold the certifier role: governance grants it with "
            f"`ape run ops certifier grant {s.sender}`"
        )
