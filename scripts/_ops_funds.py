"""Money commands: the test token's faucet, credits in the escrow, and arbitrators' stakes."""

import click

from protocol_core.deployment import LOCAL_NETWORK
from protocol_core.validation import InvalidInput, address, format_amount, optional_address, token_amount

from ._session import ChainOptions, Session, chain_options, open_session


def balance_of(s: Session, who: str) -> int:
    """USDC units `who` holds."""
    return int(s.contract("TestUSDC").functions.balanceOf(who).call())


def ensure_funds(s: Session, spender: str, units: int, what: str) -> None:
    """Refuses when the signer holds less than `units`; approves `spender` when its allowance is short."""
    held = balance_of(s, s.sender)
    if held < units:
        hint = " (`ape run ops token mint` on polygon:local)" if s.target.network == LOCAL_NETWORK else ""
        raise InvalidInput(
            f"{s.sender} holds {format_amount(held)} USDC but {what} needs "
            f"{format_amount(units)}: fund it{hint}"
        )
    allowance = int(s.contract("TestUSDC").functions.allowance(s.sender, spender).call())
    if allowance < units:
        s.send(
            s.call("TestUSDC", "approve", spender, units), f"approve {format_amount(units)} USDC for {what}"
        )


@click.group()
def token() -> None:
    """The settlement token (USDC): balances, and the test token's faucet on polygon:local."""


@token.command("mint")
@chain_options(signs=True)
@click.argument("to", metavar="ADDRESS")
@click.argument("amount")
def mint(to: str, amount: str, chain: ChainOptions) -> None:
    """Mints AMOUNT test USDC to ADDRESS (polygon:local only: real USDC has no faucet)."""
    to, units = address(to, "ADDRESS"), token_amount(amount, "AMOUNT")
    with open_session(chain, signs=True) as s:
        if s.target.network != LOCAL_NETWORK:
            raise InvalidInput(
                f"token mint works only with the test USDC of {LOCAL_NETWORK}; on {s.target.network} "
                "the token is native USDC: get it from a faucet or an account that holds it"
            )
        s.send(s.call("TestUSDC", "mint", to, units), f"mint {format_amount(units)} USDC to {to}")
        click.echo(f"{to} holds {format_amount(balance_of(s, to))} USDC")


@token.command("balance")
@chain_options(signs=False)
@click.argument("who", metavar="ADDRESS")
def balance(who: str, chain: ChainOptions) -> None:
    """USDC held by ADDRESS."""
    who = address(who, "ADDRESS")
    with open_session(chain, signs=False) as s:
        click.echo(f"{who} holds {format_amount(balance_of(s, who))} USDC")


@click.group()
def credit() -> None:
    """Credits in the escrow: payouts a token refused to push, and dispute reimbursements (oracle
    fees: `operator withdraw-fees`)."""


@credit.command("withdraw")
@chain_options(signs=True)
@click.option("--to", "to", help="Where to send the credit (default: the signer).")
def withdraw_credit(to: str | None, chain: ChainOptions) -> None:
    """Withdraws the signer's whole credit from the escrow."""
    to = optional_address(to, "--to")
    with open_session(chain, signs=True) as s:
        owed = s.escrow.credit_of(s.sender)
        if owed == 0:
            raise InvalidInput(f"{s.sender} has no credit in the escrow")
        s.send(s.escrow.withdraw(to or s.sender), f"withdraw {format_amount(owed)} USDC")


@click.group()
def arbitrator() -> None:
    """Arbitrators of the dispute pool: stake, unstake and withdraw."""


@arbitrator.command("stake")
@chain_options(signs=True)
@click.argument("amount")
def arbitrator_stake(amount: str, chain: ChainOptions) -> None:
    """The arbitrator (--account) stakes AMOUNT USDC in the pool, approving it first when needed."""
    units = token_amount(amount, "AMOUNT")
    with open_session(chain, signs=True) as s:
        pool = s.contract("ArbitrationPool").functions
        low, high, staked = (
            pool.minStake().call(),
            pool.maxStake().call(),
            pool.arbitratorOf(s.sender).call()[0],
        )
        if not low <= staked + units <= high:
            raise InvalidInput(
                f"a stake of {format_amount(staked + units)} USDC in all would be outside the pool's "
                f"{format_amount(low)}..{format_amount(high)} USDC"
            )
        ensure_funds(s, s.addresses.arbitrator, units, "the stake")
        s.send(s.pool.stake(units), f"stake {format_amount(units)} USDC as arbitrator")
        _show(s)


@arbitrator.command("unstake")
@chain_options(signs=True)
@click.argument("amount")
def arbitrator_unstake(amount: str, chain: ChainOptions) -> None:
    """Takes AMOUNT out of draws at once; `arbitrator withdraw` pays it after the delay."""
    units = token_amount(amount, "AMOUNT")
    with open_session(chain, signs=True) as s:
        s.send(s.call("ArbitrationPool", "requestUnstake", units), f"unstake {format_amount(units)} USDC")
        _show(s)


@arbitrator.command("withdraw")
@chain_options(signs=True)
def arbitrator_withdraw(chain: ChainOptions) -> None:
    """Withdraws unstaked tokens and rewards whose delay has passed."""
    with open_session(chain, signs=True) as s:
        s.send(s.call("ArbitrationPool", "withdraw"), "withdraw from the pool")
        _show(s)


def _show(s: Session) -> None:
    staked, locked, unstaking, _, rewards = (
        s.contract("ArbitrationPool").functions.arbitratorOf(s.sender).call()
    )
    click.echo(
        f"arbitrator {s.sender}: staked {format_amount(staked)} USDC, locked {format_amount(locked)}, "
        f"unstaking {format_amount(unstaking)}, rewards {format_amount(rewards)}"
    )
