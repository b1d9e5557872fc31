"""Oracle commands: governance adds and removes operators and sets the quorum; an operator stakes."""

from datetime import UTC, datetime
from urllib.parse import urlsplit

import click

from protocol_core.validation import (
    InvalidInput,
    address,
    bounded,
    format_amount,
    optional_address,
    token_amount,
)

from ._ops_funds import ensure_funds
from ._session import ChainOptions, Session, chain_options, open_session

MAX_QUORUM = 255  # uint8 on chain
MAX_ENDPOINT_BYTES = 256  # OracleOperators.MAX_ENDPOINT_BYTES


@click.group()
def operator() -> None:
    """Oracle operators: governance adds and removes them; an operator stakes, unstakes and withdraws."""


@operator.command("add")
@chain_options(signs=True)
@click.argument("who", metavar="ADDRESS")
def add(who: str, chain: ChainOptions) -> None:
    """Governance adds ADDRESS to the oracle's operator set."""
    who = address(who, "ADDRESS")
    with open_session(chain, signs=True) as s:
        s.send(s.call("VerificationOracle", "addOperator", who), f"add operator {who}")
        _say_quorum(s)


@operator.command("remove")
@chain_options(signs=True)
@click.argument("who", metavar="ADDRESS")
def remove(who: str, chain: ChainOptions) -> None:
    """Governance removes ADDRESS from the operator set (its stake stays withdrawable)."""
    who = address(who, "ADDRESS")
    with open_session(chain, signs=True) as s:
        s.send(s.call("VerificationOracle", "removeOperator", who), f"remove operator {who}")
        _say_quorum(s)


@operator.command("stake")
@chain_options(signs=True)
@click.argument("amount")
def stake(amount: str, chain: ChainOptions) -> None:
    """The operator (--account) stakes AMOUNT USDC, approving the oracle first when needed."""
    units = token_amount(amount, "AMOUNT")
    with open_session(chain, signs=True) as s:
        ensure_funds(s, s.addresses.oracle, units, "the stake")
        s.send(s.oracle.stake(units), f"stake {format_amount(units)} USDC")
        _show(s, s.sender)


@operator.command("unstake")
@chain_options(signs=True)
@click.argument("amount")
def unstake(amount: str, chain: ChainOptions) -> None:
    """The operator starts unstaking AMOUNT USDC; `operator withdraw` pays it after the delay, once no
    disputed verdict it attested is unsettled."""
    units = token_amount(amount, "AMOUNT")
    with open_session(chain, signs=True) as s:
        s.send(s.oracle.request_unstake(units), f"unstake {format_amount(units)} USDC")
        _show(s, s.sender)


@operator.command("withdraw")
@chain_options(signs=True)
def withdraw(chain: ChainOptions) -> None:
    """The operator withdraws stake whose unstaking delay has passed and no dispute holds."""
    with open_session(chain, signs=True) as s:
        s.send(s.oracle.withdraw_stake(), "withdraw unstaked USDC")
        _show(s, s.sender)


@operator.command("withdraw-fees")
@chain_options(signs=True)
@click.option("--to", "to", help="Where to send the fees (default: the signer).")
def withdraw_fees(to: str | None, chain: ChainOptions) -> None:
    """The operator withdraws the oracle fees it earned from the escrow."""
    to = optional_address(to, "--to")
    with open_session(chain, signs=True) as s:
        owed = s.escrow.operator_fees_of(s.sender)
        if owed == 0:
            raise InvalidInput(f"{s.sender} has no oracle fees in the escrow")
        s.send(s.escrow.withdraw_operator_fees(to or s.sender), f"withdraw {format_amount(owed)} USDC fees")


@operator.command("endpoint")
@chain_options(signs=True)
@click.argument("url")
def endpoint(url: str, chain: ChainOptions) -> None:
    """The operator publishes URL, where its node's intake listens (https://host:port), so that the other
    operators' nodes find it; "" withdraws it."""
    parts = urlsplit(url)
    if url and (parts.scheme not in ("http", "https") or not parts.hostname or parts.query):
        raise InvalidInput(f"URL must be http(s)://host[:port] (the node's intake), got {url!r}")
    if len(url.encode()) > MAX_ENDPOINT_BYTES:
        raise InvalidInput(f"URL is {len(url.encode())} bytes; the oracle keeps at most {MAX_ENDPOINT_BYTES}")
    with open_session(chain, signs=True) as s:
        s.send(s.call("VerificationOracle", "setEndpoint", url), f"publish endpoint {url or '(none)'}")
        _show(s, s.sender)


@operator.command("show")
@chain_options(signs=False)
@click.argument("who", metavar="ADDRESS")
def show(who: str, chain: ChainOptions) -> None:
    """Stake, unstaking and oracle fees earned by operator ADDRESS."""
    who = address(who, "ADDRESS")
    with open_session(chain, signs=False) as s:
        _show(s, who)


@click.command("quorum")
@chain_options(signs=True)
@click.argument("size", type=int)
def quorum(size: int, chain: ChainOptions) -> None:
    """Governance sets how many matching attestations make a verdict final."""
    size = bounded(size, "SIZE", 1, MAX_QUORUM)
    with open_session(chain, signs=True) as s:
        s.send(s.call("VerificationOracle", "setQuorum", size), f"set the quorum to {size}")
        _say_quorum(s)


def _say_quorum(s: Session) -> None:
    size = s.oracle.quorum()
    click.echo(
        f"quorum {size}: a verdict needs {size} matching attestation(s), so at least {size} node(s) must run"
    )


def _show(s: Session, who: str) -> None:
    info, minimum = s.oracle.operator_of(who), s.oracle.min_stake()
    attests = info.active and info.stake >= minimum
    click.echo(f"operator {who}: {'in the set' if info.active else 'not in the set'}")
    click.echo(
        f"  staked      {format_amount(info.stake)} USDC (at least {format_amount(minimum)} to attest)"
    )
    if info.unstaking:
        when = datetime.fromtimestamp(info.unstake_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        click.echo(f"  unstaking   {format_amount(info.unstaking)} USDC, withdrawable from {when}")
    if held := s.oracle.disputed_verdicts(who):
        click.echo(f"  held        by {held} disputed verdict(s) it attested: withdraw once they settle")
    published = s.contract("VerificationOracle").functions.endpointOf(who).call()
    click.echo(f"  endpoint    {published or '(none: `ape run ops operator endpoint URL`)'}")
    fees = format_amount(s.escrow.operator_fees_of(who))
    click.echo(f"  fees earned {fees} USDC (`ape run ops operator withdraw-fees`)")
    click.echo(f"  can attest  {'yes' if attests else 'no'}")
