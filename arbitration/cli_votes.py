"""`arbitrator cases | open | vote | reveal`: my seats, their case files, and my votes."""

from pathlib import Path

import click
from sqlalchemy import select

from protocol_core.arbitration import commitment
from protocol_core.enums import RoundPhase, RulingOption
from runtime.db import transaction

from .casefile import CaseReader
from .cli import cli, connect, with_settings
from .errors import Refused
from .notices import when
from .pool import calldata
from .settings import ArbitratorSettings
from .tables import seats, votes
from .votes import VoteStep, claim, give
from .wallet import send
from .wiring import Parts

MAX_ROUNDS = 8  # rounds looked at for my seat (the pool allows at most 4)
CHOICES = {"0": 0, "1": 1, "2": 2, "split": 0, "worker": 1, "agent": 2}


def my_round(p: Parts, dispute_id: int) -> int:
    """The newest round of the dispute whose panel holds me; Refused when none does."""
    with p.engine.connect() as db:
        row = db.execute(
            select(seats.c.round).where(seats.c.dispute_id == dispute_id).order_by(seats.c.round.desc())
        ).first()
    if row is not None:
        return int(row.round)
    if p.pool.phase(dispute_id) is RoundPhase.NONE:
        raise Refused(
            f"no dispute {dispute_id} in the pool {p.pool.address}: check the number "
            "(`arbitrator cases` lists the disputes you are drawn in)"
        )
    found = None
    for index in range(MAX_ROUNDS):
        try:
            panel = p.pool.round_of(dispute_id, index).panel
        except Exception:  # the pool reverts past the last round
            break
        if p.sender.address in panel:
            found = index
    if found is None:
        raise Refused(
            f"not drawn in dispute {dispute_id}: only its panel votes (`arbitrator cases` lists your seats)"
        )
    return found


@cli.command()
@with_settings
def cases(settings: ArbitratorSettings) -> None:
    """My seats: phase, deadlines and where my vote is."""
    p = connect(settings)
    with p.engine.connect() as db:
        rows = db.execute(
            select(seats, votes.c.choice, votes.c.commit_state, votes.c.reveal_state)
            .outerjoin(votes, (votes.c.dispute_id == seats.c.dispute_id) & (votes.c.round == seats.c.round))
            .order_by(seats.c.dispute_id, seats.c.round)
        ).all()
    if not rows:
        click.echo("no cases: not drawn yet (is `arbitrator watch` running?)")
    for r in rows:
        phase = p.pool.phase(r.dispute_id).name.lower()
        vote = "no vote given"
        if r.choice is not None:
            named = RulingOption(r.choice).name.lower()
            vote = f"vote {named}: commit {r.commit_state}, reveal {r.reveal_state}"
        click.echo(
            f"dispute {r.dispute_id} round {r.round}: {phase}; commit by {when(r.commit_end)}, "
            f"reveal by {when(r.reveal_end)}; {vote}"
        )


@cli.command("open")
@click.argument("dispute_id", type=click.IntRange(min=1))
@click.option("--case", "case", help="the case file (a path or URI); default: the one the desk named for me")
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="hex X25519 private key (default ARBITRATOR_X25519_KEY_FILE)",
)
@with_settings
def open_case(settings: ArbitratorSettings, dispute_id: int, case: str | None, key_file: Path | None) -> None:
    """Opens the case file sealed to me and shows it with the oracle's verdict and the statements."""
    p = connect(settings)
    my_round(p, dispute_id)
    reader = CaseReader(p, key_file or settings.x25519_key_file, settings.content_root)
    click.echo(reader.render(dispute_id, case))


@cli.command()
@click.argument("dispute_id", type=click.IntRange(min=1))
@click.argument("choice", type=click.Choice(sorted(CHOICES), case_sensitive=False))
@click.option("--direct", is_flag=True, help="commit now from here instead of handing it to the daemon")
@with_settings
def vote(settings: ArbitratorSettings, dispute_id: int, choice: str, direct: bool) -> None:
    """Gives my vote (0/split, 1/worker, 2/agent); its salt is stored before anything is sent."""
    p = connect(settings)
    index = my_round(p, dispute_id)
    phase = p.pool.phase(dispute_id)
    if phase is not RoundPhase.COMMIT:
        raise Refused(
            f"phase over: dispute {dispute_id} is in {phase.name.lower()}, votes are given in commit"
            f" (it ended at {when(p.pool.round_of(dispute_id, index).commit_end)})"
        )
    with transaction(p.engine) as db:
        if not give(db, dispute_id, index, CHOICES[choice.lower()]):
            raise Refused(f"a vote is already given for dispute {dispute_id} round {index}: it never changes")
    if not direct:
        click.echo(f"vote on dispute {dispute_id} handed to the daemon: it commits and then reveals it")
        return
    with p.engine.connect() as db:
        row = db.execute(
            select(votes).where(votes.c.dispute_id == dispute_id).where(votes.c.round == index)
        ).one()
    hidden = commitment(dispute_id, index, p.sender.address, row.choice, bytes.fromhex(row.salt[2:]))
    tx = send(
        p,
        p.pool.address,
        calldata("commit", dispute_id, hidden),
        VoteStep(dispute_id, index, "commit"),
        claim,
        dispute_id,
    )
    click.echo(f"committed on dispute {dispute_id} ({tx}); the daemon (or `arbitrator reveal`) reveals it")


@cli.command()
@click.argument("dispute_id", type=click.IntRange(min=1))
@click.option("--salt", help="0x + 64 hex, when not the one stored with the vote")
@click.option("--choice", type=click.IntRange(0, 2), help="when not the one stored with the vote")
@with_settings
def reveal(settings: ArbitratorSettings, dispute_id: int, salt: str | None, choice: int | None) -> None:
    """Reveals my committed vote now (the daemon does it by itself in the reveal phase)."""
    p = connect(settings)
    index = my_round(p, dispute_id)
    with p.engine.connect() as db:
        row = db.execute(
            select(votes).where(votes.c.dispute_id == dispute_id).where(votes.c.round == index)
        ).first()
    if row is not None and row.reveal_state == "done":
        raise Refused(f"already revealed on dispute {dispute_id}: a vote is revealed once")
    if row is not None and row.commit_state == "failed":
        raise Refused(f"nothing to reveal: your commit on dispute {dispute_id} failed ({row.detail})")
    if row is None and (salt is None or choice is None):
        raise Refused(f"no vote stored for dispute {dispute_id}: give --choice and --salt")
    given_salt = salt if salt is not None else row.salt if row is not None else ""
    given_choice = choice if choice is not None else row.choice if row is not None else 0
    try:
        secret = bytes.fromhex(given_salt[2:])
    except ValueError:
        raise Refused("wrong salt: give 0x and 64 hex digits") from None
    if len(secret) != 32:
        raise Refused("wrong salt: give 0x and 64 hex digits")
    _require_reveal_phase(p, dispute_id, index)
    stored = salt is None and choice is None
    data = calldata("reveal", dispute_id, given_choice, secret)
    tx = send(
        p, p.pool.address, data, VoteStep(dispute_id, index, "reveal"), claim if stored else None, dispute_id
    )
    click.echo(f"revealed on dispute {dispute_id} ({tx})")


def _require_reveal_phase(p: Parts, dispute_id: int, index: int) -> None:
    """Refused, with the times, unless the dispute's round is in its reveal phase."""
    phase, seat = p.pool.phase(dispute_id), p.pool.round_of(dispute_id, index)
    if phase is RoundPhase.COMMIT:
        raise Refused(
            f"too early: dispute {dispute_id} reveals from {when(seat.commit_end + 1)} (the daemon "
            "reveals by itself then)"
        )
    if phase is not RoundPhase.REVEAL:
        raise Refused(f"phase over: dispute {dispute_id}'s reveal phase ended at {when(seat.reveal_end)}")
