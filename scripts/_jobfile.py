"""A job as the commands name it: the file `job post` writes (terms, id, network, escrow) or a job id."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from protocol_core.events import decode_logs, topic
from protocol_core.terms import JobTerms
from protocol_core.validation import InvalidInput

from ._session import Session

_JOB_ID = re.compile(r"0x[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class PostedJob:
    """A posted job's terms and id (the hash of the terms)."""

    terms: JobTerms

    @property
    def job_id(self) -> bytes:
        return self.terms.digest()

    @property
    def hex_id(self) -> str:
        return "0x" + self.job_id.hex()


def save_job(path: Path, job: PostedJob, s: Session) -> None:
    """Writes the job file: what later commands (and the agent's records) need to name the job."""
    record = {
        "job_id": job.hex_id,
        "network": s.target.network,
        "escrow": s.addresses.escrow,
        "terms": job.terms.model_dump(mode="json"),
    }
    path.write_text(json.dumps(record, indent=2) + "\n")


def load_job(ref: str, s: Session) -> PostedJob:
    """The job named by a job file or a job id, checked against the session's deployment."""
    path = Path(ref)
    if path.is_file():
        return _from_file(path, s)
    if _JOB_ID.fullmatch(ref):
        return _from_chain(ref, s)
    raise InvalidInput(f"JOB: {ref!r} is neither a job file written by `job post` nor a job id (0x + 64 hex)")


def _from_file(path: Path, s: Session) -> PostedJob:
    try:
        record = json.loads(path.read_text())
        job = PostedJob(JobTerms.model_validate(record["terms"]))
        escrow, network, job_id = record["escrow"], record["network"], record["job_id"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InvalidInput(f"{path} is not a job file written by `job post` ({type(err).__name__})") from None
    if network != s.target.network or escrow.lower() != s.addresses.escrow.lower():
        raise InvalidInput(f"{path} is a job of {network} at escrow {escrow}, not of this deployment")
    if job_id.lower() != job.hex_id:
        raise InvalidInput(f"{path}: the terms hash to {job.hex_id}, not to the recorded job id {job_id}")
    return job


def _from_chain(job_id: str, s: Session) -> PostedJob:
    topics = [topic("JobEscrow", "JobPosted"), job_id]  # jobId is the first indexed argument
    query = {"address": s.addresses.escrow, "topics": topics, "fromBlock": 0}
    logs = decode_logs(s.w3.eth.get_logs(query))  # type: ignore[arg-type]
    if not logs:
        raise InvalidInput(
            f"no job {job_id} was posted on the escrow {s.addresses.escrow} (an RPC that limits log "
            "ranges finds none: pass the job file written by `job post` instead)"
        )
    return PostedJob(JobTerms.from_event(logs[0]["terms"]))
