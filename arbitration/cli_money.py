"""`arbitrator stake | unstake | withdraw | claim | status`: the arbitrator's money in the pool."""

import click
from sqlalchemy import select

from .cli import cli, connect, with_settings
from .errors import Refused
from .notices import when
from .settings import ArbitratorSettings
from .tables import seats, votes
from .wallet import allowance, approve_call, balance, send


@cli.command()
@click.argument("amount", type=click.IntRange(min=1))
@with_settings
def stake(settings: ArbitratorSettings, amount: int) -> None:
    """Stakes AMOUNT token units (USDC: 6 decimals); approves the pool first when needed."""
    p = connect(settings)
    token = p.pool.token()
    if balance(p, token) < amount:
        raise Refused(f"stake refused: your wallet holds {balance(p, token)}, less than {amount}")
    if allowance(p, token, p.pool.address) < amount:
        send(p, token, approve_call(p.pool.address, amount), "approve")
    from .pool import calldata

    tx = send(p, p.pool.address, calldata("stake", amount), "stake")
    click.echo(f"staked {amount} ({tx})")


@cli.command()
@click.argument("amount", type=click.IntRange(min=1))
@with_settings
def unstake(settings: ArbitratorSettings, amount: int) -> None:
    """Starts unstaking AMOUNT; withdrawable after the pool's delay."""
    from .pool import calldata

    p = connect(settings)
    standing = p.pool.standing(p.sender.address)
    if amount > standing.staked + standing.queued_in:
        raise Refused(f"unstake refused: you have {standing.staked} staked, less than {amount}")
    tx = send(p, p.pool.address, calldata("requestUnstake", amount), "unstake")
    click.echo(f"unstaking {amount} ({tx}); `arbitrator withdraw` once it unlocks")


@cli.command()
@with_settings
def withdraw(settings: ArbitratorSettings) -> None:
    """Withdraws unlocked unstaked tokens and rewards."""
    from .pool import calldata

    p = connect(settings)
    standing = p.pool.standing(p.sender.address)
    if standing.unstaking == 0 and standing.rewards == 0:
        raise Refused("nothing to withdraw: no unstaked tokens and no rewards")
    tx = send(p, p.pool.address, calldata("withdraw"), "withdraw")
    click.echo(f"withdrawn ({tx})")


@cli.command()
@with_settings
def claim(settings: ArbitratorSettings) -> None:
    """Withdraws the rewards credited for voting with final rulings."""
    from .pool import calldata

    p = connect(settings)
    standing = p.pool.standing(p.sender.address)
    if standing.rewards == 0:
        raise Refused("nothing to claim: no rewards credited (rulings pay when executed)")
    tx = send(p, p.pool.address, calldata("withdraw"), "claim")
    click.echo(f"claimed {standing.rewards} ({tx})")


@cli.command()
@with_settings
def status(settings: ArbitratorSettings) -> None:
    """Stake, locks, unstaking, rewards, warnings and the disputes I am drawn in."""
    p = connect(settings)
    s = p.pool.standing(p.sender.address)
    click.echo(f"arbitrator {p.sender.address}")
    click.echo(f"staked {s.staked}  locked {s.locked}  free {s.free}  rewards {s.rewards}")
    if s.unstaking:
        click.echo(f"unstaking {s.unstaking}, withdrawable from {when(s.unlock_at)}")
    if s.queued_in or s.queued_out:
        click.echo(f"queued while draws are pending: +{s.queued_in} -{s.queued_out}")
    for warning in s.warnings():
        click.echo(f"warning: {warning}")
    with p.engine.connect() as db:
        drawn = db.execute(
            select(seats.c.dispute_id, seats.c.round, votes.c.choice).outerjoin(
                votes, (votes.c.dispute_id == seats.c.dispute_id) & (votes.c.round == seats.c.round)
            )
        ).all()
    click.echo("drawn in: " + (", ".join(f"{r.dispute_id}/{r.round}" for r in drawn) or "none"))
