"""Job commands: an agent posts, a worker accepts and submits evidence, anyone looks or settles."""

import time
from datetime import UTC, datetime
from pathlib import Path

import click
from eth_utils import keccak

from protocol_core.enums import Ineligibility, JobStatus
from protocol_core.evidence import EvidenceBundle
from protocol_core.languages import language_index
from protocol_core.terms import ZERO_ADDRESS, JobTerms, Requirements
from protocol_core.validation import (
    InvalidInput,
    bits,
    bounded,
    bytes32,
    format_amount,
    optional_address,
    token_amount,
)

from ._jobfile import PostedJob, load_job, save_job
from ._ops_funds import ensure_funds
from ._session import ChainOptions, Session, chain_options, open_session

HOUR = 3600
POLL = 0.5  # seconds between two looks at a job awaiting its verdict
MAX_CHALLENGE_WINDOW = 30 * 24 * HOUR


@click.group()
def job() -> None:
    """Jobs: an agent posts, a worker accepts and submits evidence, anyone shows or settles."""


@job.command("post")
@chain_options(signs=True)
@click.option("--reward", required=True, help="Reward for the worker in USDC, e.g. 20.")
@click.option("--language", required=True, help="Language of the ticket, ISO 639-1 (en, es, de...).")
@click.option("--expertise", default="0", show_default=True, help="Expertise bits the worker must hold.")
@click.option("--certifications", default="0", show_default=True, help="Certification bits required.")
@click.option("--worker", help="Offer the job to this worker only (default: any eligible worker).")
@click.option("--confirmer", help="Address whose EIP-712 signature confirms the outcome (customer/helpdesk).")
@click.option("--spec", help="Acceptance criteria; the spec hash is the keccak-256 of this text.")
@click.option("--spec-hash", help="The spec hash itself (0x + 64 hex), instead of --spec.")
@click.option("--accept-hours", type=float, default=24.0, show_default=True)
@click.option("--resolve-hours", type=float, default=48.0, show_default=True)
@click.option(
    "--challenge-window", type=int, default=0, show_default=True, help="Seconds to dispute a verdict."
)
@click.option(
    "--out", type=click.Path(path_type=Path, dir_okay=False), help="Job file (default job-<id>.json)."
)
def post(chain: ChainOptions, **o) -> None:
    """The agent (--account) posts a job; reward and fees move into escrow."""
    reward = token_amount(o["reward"], "--reward")
    requirements = Requirements(
        language=language_index(o["language"]),
        expertise=bits(o["expertise"], "--expertise", 64),
        certifications=bits(o["certifications"], "--certifications", 32),
    )
    worker, confirmer = (
        optional_address(o["worker"], "--worker"),
        optional_address(o["confirmer"], "--confirmer"),
    )
    if (o["spec"] is None) == (o["spec_hash"] is None):
        raise InvalidInput("give the acceptance criteria as --spec TEXT or their hash as --spec-hash")
    spec_hash = keccak(text=o["spec"]) if o["spec"] is not None else bytes32(o["spec_hash"], "--spec-hash")
    if not 0 < o["accept_hours"] <= o["resolve_hours"]:
        raise InvalidInput("--accept-hours must be above 0 and at most --resolve-hours")
    window = bounded(o["challenge_window"], "--challenge-window", 0, MAX_CHALLENGE_WINDOW)
    with open_session(chain, signs=True) as s:
        oracle_fee, protocol_fee = s.escrow.quote(reward)
        now = int(s.w3.eth.get_block("latest")["timestamp"])
        terms = JobTerms(
            agent=s.sender, reward=reward, confirmer=confirmer or ZERO_ADDRESS, oracle_fee=oracle_fee,
            protocol_fee=protocol_fee, offered_to=worker or ZERO_ADDRESS,
            accept_by=now + int(o["accept_hours"] * HOUR), resolve_by=now + int(o["resolve_hours"] * HOUR),
            challenge_window=window, spec_hash=spec_hash, requirements=requirements,
        )  # fmt: skip
        posted = PostedJob(terms)
        ensure_funds(s, s.addresses.escrow, terms.total, "the job")
        s.send(s.escrow.post_job(terms), f"post job {posted.hex_id}")
        out = o["out"] or Path(f"job-{posted.hex_id[2:10]}.json")
        save_job(out, posted, s)
        click.echo(
            f"job {posted.hex_id}: {format_amount(reward)} USDC reward + "
            f"{format_amount(oracle_fee)} oracle fee "
            f"+ {format_amount(protocol_fee)} protocol fee in escrow; terms written to {out}"
        )
        if confirmer is None:
            click.echo("note: no --confirmer: oracle nodes approve it only with a helpdesk check")


@job.command("accept")
@chain_options(signs=True)
@click.argument("ref", metavar="JOB")
def accept(ref: str, chain: ChainOptions) -> None:
    """The worker (--account) accepts JOB (a job file or job id)."""
    with open_session(chain, signs=True) as s:
        posted = load_job(ref, s)
        offered = posted.terms.offered_to
        if offered != ZERO_ADDRESS and offered != s.sender:
            raise InvalidInput(f"job {posted.hex_id} is offered to {offered} only, not to {s.sender}")
        why = s.registry.eligibility(s.sender, posted.terms.requirements)
        if why != Ineligibility.NONE:
            reason = why.name.lower().replace("_", " ")
            raise InvalidInput(
                f"{s.sender} may not take job {posted.hex_id}: {reason} (see `ops worker register`)"
            )
        s.send(s.escrow.accept_job(posted.terms), f"accept job {posted.hex_id}")


@job.command("submit")
@chain_options(signs=True)
@click.argument("ref", metavar="JOB")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--uri", help="Where every oracle node can fetch the bundle (default: its file:// path).")
@click.option("--wait", type=float, default=0, help="Seconds to wait for the verdict (0: do not wait).")
def submit(ref: str, bundle_path: Path, uri: str | None, wait: float, chain: ChainOptions) -> None:
    """The worker submits the evidence BUNDLE of JOB: its hash on chain, its bytes at --uri."""
    try:
        raw = bundle_path.read_bytes()
    except OSError as err:
        raise InvalidInput(f"BUNDLE: cannot read {bundle_path} ({err.strerror})") from None
    bundle = EvidenceBundle.parse(raw)
    if raw != bundle.canonical():
        raise InvalidInput(
            f"{bundle_path} is not in the canonical encoding nodes hash; write bundle.canonical()"
        )
    uri = uri or bundle_path.resolve().as_uri()
    with open_session(chain, signs=True) as s:
        posted = load_job(ref, s)
        if (bundle.job_id, bundle.escrow, bundle.chain_id) != (
            posted.hex_id,
            s.addresses.escrow,
            s.target.chain_id,
        ):
            raise InvalidInput(
                f"{bundle_path} is a bundle for another job, escrow or chain than {posted.hex_id}"
            )
        if uri.startswith("file:"):
            if not s.target.local:
                raise InvalidInput(
                    f"a file:// URI is readable only by a node on this machine; on {s.target.network} serve "
                    "the bundle over https:// or ipfs:// where every operator's node can fetch it"
                )
            click.echo("note: file:// is read only by nodes on this machine whose file root holds the bundle")
        s.send(
            s.escrow.submit_evidence(posted.job_id, keccak(raw), uri), f"submit evidence for {posted.hex_id}"
        )
        if wait > 0:
            _await_verdict(s, posted, wait, uri)


@job.command("show")
@chain_options(signs=False)
@click.argument("ref", metavar="JOB")
def show(ref: str, chain: ChainOptions) -> None:
    """Status, worker, deadline, money and attestations of JOB."""
    with open_session(chain, signs=False) as s:
        posted = load_job(ref, s)
        state, terms = s.escrow.job_state(posted.job_id), posted.terms
        click.echo(f"job {posted.hex_id}: {state.status.name.lower()}")
        if state.worker != ZERO_ADDRESS:
            click.echo(f"  worker    {state.worker}")
        if state.deadline:
            click.echo(f"  deadline  {datetime.fromtimestamp(state.deadline, UTC):%Y-%m-%d %H:%M:%S} UTC")
        click.echo(
            f"  money     {format_amount(terms.reward)} reward + "
            f"{format_amount(terms.oracle_fee)} oracle fee + "
            f"{format_amount(terms.protocol_fee)} protocol fee (USDC)"
        )
        approvers, rejecters = s.contract("VerificationOracle").functions.tally(posted.job_id).call()
        if state.status == JobStatus.SUBMITTED:
            click.echo(
                f"  votes     {len(approvers)} approve, {len(rejecters)} reject, quorum {s.oracle.quorum()}"
            )


@job.command("settle")
@chain_options(signs=True)
@click.argument("ref", metavar="JOB")
def settle(ref: str, chain: ChainOptions) -> None:
    """Carries out what time has decided for JOB (anyone may): pay, or refund after a deadline."""
    with open_session(chain, signs=True) as s:
        posted = load_job(ref, s)
        s.send(s.escrow.settle(posted.terms), f"settle job {posted.hex_id}")
        click.echo(f"job {posted.hex_id}: {s.escrow.job_state(posted.job_id).status.name.lower()}")


def _await_verdict(s: Session, posted: PostedJob, timeout: float, uri: str) -> None:
    click.echo(f"waiting up to {timeout:.0f} s for the oracle's verdict...")
    deadline = time.monotonic() + timeout
    while (status := s.escrow.job_state(posted.job_id).status) == JobStatus.SUBMITTED:
        if time.monotonic() > deadline:
            raise InvalidInput(
                f"job {posted.hex_id} still awaits its verdict after {timeout:.0f} s: it needs "
                f"{s.oracle.quorum()} running oracle nodes that can fetch {uri}"
            )
        time.sleep(POLL)  # the interval between two reads of the job's status
    click.echo(f"job {posted.hex_id}: {status.name.lower()}")
