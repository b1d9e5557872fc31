"""What every daemon's command line shares: one plain line and exit status 2 when it cannot start."""

import sys
from typing import NoReturn

import click


def refuse(program: str, message: str) -> NoReturn:
    """Prints `<program>: <message>` on stderr (what is wrong and what to do) and exits 2."""
    click.echo(f"{program}: {message}", err=True)
    sys.exit(2)
