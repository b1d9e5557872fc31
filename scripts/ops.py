"""Running a deployment: `ape run ops <command> --rpc-url URL --account ALIAS` (`ape run ops --help`).

Governance adds operators, sets the quorum and fees and appoints certifiers; operators and
arbitrators stake; workers register; agents post jobs; customers confirm outcomes. Every command
checks its arguments, says which RPC it uses, dry-runs each transaction and answers a refusal
with one line.
"""

import click

from scripts._ops_funds import arbitrator, credit, token
from scripts._ops_governance import certification, certifier, fees, status
from scripts._ops_jobs import job
from scripts._ops_oracle import operator, quorum
from scripts._ops_people import evidence, worker


@click.group()
def cli() -> None:
    """Operate the escalation protocol on the chain behind --rpc-url."""


COMMANDS = (
    status,
    operator,
    quorum,
    certifier,
    certification,
    fees,
    arbitrator,
    token,
    credit,
    worker,
    job,
    evidence,
)
for command in COMMANDS:
    cli.add_command(command)
