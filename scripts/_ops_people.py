"""Commands of the people around a job: a worker registers; the customer confirms the outcome."""

import time
from pathlib import Path

import click

from protocol_core.bindings import WorkerProfile
from protocol_core.eip712 import confirmation_message
from protocol_core.evidence import EvidenceBundle, Outcome, confirmation_signer
from protocol_core.languages import language_codes, language_mask
from protocol_core.validation import InvalidInput, address, bits, bounded, bytes32

from ._jobfile import load_job
from ._session import ChainOptions, chain_options, open_session
from ._signer import no_prompt_answer

MAX_CAPACITY = 255  # uint8 maxConcurrent


@click.group()
def worker() -> None:
    """Workers: register a profile (languages, expertise, capacity, encryption key) and look at one."""


@worker.command("register")
@chain_options(signs=True)
@click.option("--languages", required=True, help="Comma-separated ISO 639-1 codes, e.g. en,es.")
@click.option("--expertise", default="0", show_default=True, help="Expertise bits, e.g. 0b11.")
@click.option("--capacity", type=int, default=1, show_default=True, help="Jobs held at once.")
@click.option("--encryption-key", required=True, help="The worker's X25519 public key (0x + 64 hex).")
@click.option("--profile-uri", default="", help="Where the public profile is (emitted, not stored).")
def register(
    languages: str, expertise: str, capacity: int, encryption_key: str, profile_uri: str, chain: ChainOptions
) -> None:
    """The worker (--account) registers or updates its profile."""
    mask = language_mask([code.strip() for code in languages.split(",") if code.strip()])
    if mask == 0:
        raise InvalidInput("--languages: name at least one language, e.g. en")
    skills = bits(expertise, "--expertise", 64)
    capacity = bounded(capacity, "--capacity", 1, MAX_CAPACITY)
    key = bytes32(encryption_key, "--encryption-key")
    with open_session(chain, signs=True) as s:
        call = s.registry.register(mask, skills, capacity, key, profile_uri)
        s.send(call, f"register worker {s.sender}")
        _show(s.registry.profile(s.sender), s.sender)


@worker.command("show")
@chain_options(signs=False)
@click.argument("who", metavar="ADDRESS")
def show(who: str, chain: ChainOptions) -> None:
    """The on-chain profile of worker ADDRESS."""
    who = address(who, "ADDRESS")
    with open_session(chain, signs=False) as s:
        _show(s.registry.profile(who), who)


def _show(profile: WorkerProfile, who: str) -> None:
    if profile.max_concurrent == 0:
        click.echo(f"worker {who}: not registered")
        return
    click.echo(
        f"worker {who}: {','.join(language_codes(profile.languages))}; expertise {profile.expertise:#b}, "
        f"certifications {profile.certifications:#b}; {profile.active_jobs}/{profile.max_concurrent} jobs; "
        f"{'available' if profile.available else 'unavailable'}; {profile.completed} completed"
    )


@click.group()
def evidence() -> None:
    """Evidence: the customer's (or helpdesk's) signed confirmation of a ticket's outcome."""


@evidence.command("confirm")
@chain_options(signs=True)
@click.argument("ref", metavar="JOB")
@click.option("--ticket", required=True, help="The helpdesk's id of the ticket, e.g. T-1001.")
@click.option(
    "--outcome", type=click.Choice(["resolved", "unresolved"]), default="resolved", show_default=True
)
@click.option("--summary", default="", help="Resolution notes (kept off chain).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True, help="Bundle file.")
def confirm(ref: str, ticket: str, outcome: str, summary: str, out: Path, chain: ChainOptions) -> None:
    """The job's confirmer (--account) signs the outcome of JOB; writes the evidence bundle to --out."""
    verdict = Outcome.RESOLVED if outcome == "resolved" else Outcome.UNRESOLVED
    with open_session(chain, signs=True, pays_gas=False) as s:
        posted = load_job(ref, s)
        if posted.terms.confirmer != s.sender:
            raise InvalidInput(
                f"job {posted.hex_id} is confirmed by {posted.terms.confirmer}, not {s.sender}"
            )
        confirmed_at = int(time.time())
        message = confirmation_message(
            chain_id=s.target.chain_id, escrow=s.addresses.escrow, job_id=posted.job_id,
            ticket_ref=ticket, outcome=verdict, confirmed_at=confirmed_at,
        )  # fmt: skip
        assert s.account is not None
        try:
            signature = s.account.sign_message(message)
        except click.Abort:
            raise InvalidInput(no_prompt_answer("signing")) from None
        if signature is None:
            raise InvalidInput("the confirmation was not signed at the prompt; no bundle was written")
        bundle = EvidenceBundle(
            version=1, chain_id=s.target.chain_id, escrow=s.addresses.escrow, job_id=posted.hex_id,
            ticket_ref=ticket, outcome=verdict, confirmed_at=confirmed_at, summary=summary,
            confirmation="0x" + signature.encode_rsv().hex(),
        )  # fmt: skip
        if confirmation_signer(bundle) != s.sender:
            raise InvalidInput(
                f"the signature of {s.sender} does not recover to it; is --account a hardware key?"
            )
        out.write_bytes(bundle.canonical())
        click.echo(
            f"wrote {out} (evidence hash 0x{bundle.digest().hex()}); the worker submits it with `job submit`"
        )
