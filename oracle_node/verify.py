"""Verification of one evidence bundle: the pure check of its bytes, and the fetch-and-ask around it."""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from eth_utils import keccak, to_checksum_address

from oracle_node.errors import (
    EvidenceTooLarge,
    EvidenceUnavailable,
    HostBusy,
    TransientFetchError,
    TransientVerificationError,
    UnsupportedUri,
)
from oracle_node.fetch import EvidenceFetcher
from oracle_node.helpdesk import HelpdeskCheck
from oracle_node.settings import NodeSettings
from oracle_node.verdicts import Reason, Verdict, VerificationRequest
from protocol_core.evidence import (
    EvidenceBundle,
    EvidenceSchemaError,
    InvalidConfirmation,
    MalformedEvidence,
    Outcome,
    confirmation_signer,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class BundleCheck:
    """What the bytes alone prove: a verdict, and whether only the helpdesk can still confirm it."""

    verdict: Verdict
    ticket_ref: str = ""  # the bundle's ticket, once it parsed
    needs_helpdesk: bool = False  # the job has no confirmer; `verdict` is then UNCONFIRMABLE (fail closed)


def verify_bundle(request: VerificationRequest, raw: bytes) -> BundleCheck:
    """Checks fetched bytes against the request; pure, and never raises."""
    try:
        return _check(request, raw)
    except Exception as exc:  # a bug or an input nobody foresaw rejects the bundle, never crashes the node
        log.exception("unexpected error verifying %s", request.uri)
        return BundleCheck(Verdict.reject(Reason.MALFORMED, f"unexpected {type(exc).__name__}: {exc}"))


def _check(request: VerificationRequest, raw: bytes) -> BundleCheck:
    if keccak(raw) != bytes(request.evidence_hash):
        return BundleCheck(Verdict.reject(Reason.HASH_MISMATCH, f"bytes hash to 0x{keccak(raw).hex()}"))
    try:
        bundle = EvidenceBundle.parse(raw)
    except MalformedEvidence as exc:
        return BundleCheck(Verdict.reject(Reason.MALFORMED, str(exc)))
    except EvidenceSchemaError as exc:
        return BundleCheck(Verdict.reject(Reason.SCHEMA, str(exc)))
    # One encoding, one hash: a bundle that means the same but is spelled differently is refused.
    if raw != bundle.canonical():
        return BundleCheck(Verdict.reject(Reason.SCHEMA, "not canonical: serve bundle.canonical() bytes"))
    ticket = bundle.ticket_ref
    named = (bundle.chain_id, bundle.escrow, bundle.job_id)
    expected = (request.chain_id, to_checksum_address(request.escrow), "0x" + bytes(request.job_id).hex())
    if named != expected:
        return BundleCheck(
            Verdict.reject(Reason.WRONG_JOB, f"bundle names {named}, job is {expected}"), ticket
        )
    no_confirmer = int(request.confirmer, 16) == 0
    if not no_confirmer:
        try:
            signer = confirmation_signer(bundle)
        except InvalidConfirmation as exc:
            return BundleCheck(Verdict.reject(Reason.BAD_SIGNATURE, str(exc)), ticket)
        if signer != to_checksum_address(request.confirmer):
            detail = f"confirmation signed by {signer}, the job's confirmer is {request.confirmer}"
            return BundleCheck(Verdict.reject(Reason.BAD_SIGNATURE, detail), ticket)
    if bundle.outcome is Outcome.UNRESOLVED:
        return BundleCheck(Verdict.reject(Reason.NOT_RESOLVED, "the bundle says unresolved"), ticket)
    if no_confirmer:
        detail = "the job has no confirmer and no helpdesk confirmed the ticket"
        return BundleCheck(Verdict.reject(Reason.UNCONFIRMABLE, detail), ticket, needs_helpdesk=True)
    return BundleCheck(
        Verdict(approve=True, reason=Reason.CONFIRMED, detail="confirmed by the customer"), ticket
    )


class Verifier:
    """Fetches a bundle with bounded retries, checks it, and asks the helpdesk when one is configured."""

    def __init__(
        self,
        fetcher: EvidenceFetcher,
        helpdesk: HelpdeskCheck | None = None,
        attempts: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], object] | None = None,  # None: a wait that cancel() cuts short
    ) -> None:
        self._fetcher = fetcher
        self._helpdesk = helpdesk
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._sleep = sleep
        self._stopping = threading.Event()

    @classmethod
    def from_settings(cls, settings: NodeSettings) -> "Verifier":
        """The fetcher and, when helpdesk_url is set, the helpdesk check the settings describe."""
        fetcher = EvidenceFetcher(
            max_bytes=settings.evidence_max_bytes,
            timeout=settings.evidence_timeout,
            per_host=settings.fetch_per_host,
            file_root=settings.file_root,
            ipfs_gateway=settings.ipfs_gateway,
            allow_private_hosts=settings.allow_private_hosts,
        )
        helpdesk = None
        if settings.helpdesk_url:
            token = settings.helpdesk_token.get_secret_value() if settings.helpdesk_token else ""
            helpdesk = HelpdeskCheck(
                url_template=settings.helpdesk_url,
                auth_header=settings.helpdesk_auth_header,
                token=token,
                json_path=settings.helpdesk_json_path,
                solved_values=settings.helpdesk_solved,
                timeout=settings.evidence_timeout,
            )
        return cls(fetcher, helpdesk, attempts=settings.fetch_attempts, backoff=settings.fetch_backoff)

    def verify(self, request: VerificationRequest) -> Verdict:
        """The verdict on `request`; raises only TransientVerificationError and configuration errors."""
        try:
            raw = (
                request.raw
                if request.raw is not None
                else self._retrying(lambda: self._fetcher.fetch(request.uri))
            )
        except HostBusy as exc:  # the thread goes to other jobs; this one waits in the queue
            raise TransientVerificationError(str(exc)) from exc
        except EvidenceTooLarge as exc:
            return Verdict.reject(Reason.OVERSIZED, str(exc))
        except UnsupportedUri as exc:
            return Verdict.reject(Reason.UNSUPPORTED_URI, str(exc))
        except (EvidenceUnavailable, TransientFetchError) as exc:
            return Verdict.reject(Reason.UNREACHABLE, str(exc))
        check = verify_bundle(request, raw)
        if self._helpdesk is None or not (check.verdict.approve or check.needs_helpdesk):
            return check.verdict
        helpdesk = self._helpdesk
        try:
            solved = self._retrying(lambda: helpdesk.is_solved(check.ticket_ref))
        except TransientFetchError as exc:
            # The operator's helpdesk being down is not the worker's fault: retry the job, don't reject it.
            raise TransientVerificationError(
                f"helpdesk unreachable after {self._attempts} attempts ({exc}); the job is retried later"
            ) from exc
        if not solved:
            return Verdict.reject(Reason.HELPDESK_NOT_SOLVED, f"helpdesk: {check.ticket_ref} not solved")
        if check.needs_helpdesk:
            return Verdict(approve=True, reason=Reason.CONFIRMED, detail="confirmed by the helpdesk")
        return check.verdict

    def cancel(self) -> None:
        """Ends the fetches and waits in flight; their verifications raise TransientVerificationError."""
        self._stopping.set()
        self._fetcher.cancel()

    def _retrying(self, call: Callable[[], T]) -> T:
        """`call()`, retried on TransientFetchError with doubling backoff; the last error is raised."""
        delay = self._backoff
        for attempt in range(1, self._attempts + 1):
            try:
                return call()
            except TransientFetchError as exc:
                if self._stopping.is_set():  # not the worker's fault: the evidence is verified again
                    raise TransientVerificationError("the node is stopping; verified again at start") from exc
                if attempt == self._attempts:
                    raise
                (self._sleep or self._stopping.wait)(delay)
                delay *= 2
        raise AssertionError("unreachable: the loop returns or raises")
