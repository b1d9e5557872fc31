"""The hard constraints, exactly as WorkerRegistry._eligibility and JobLifecycle._accept check them."""

from protocol_core.enums import Ineligibility

from .model import JobNeed, WorkerRecord

U64 = 2**64


def eligibility(worker: WorkerRecord, need: JobNeed) -> Ineligibility:
    """The registry's answer for `worker` and the job's Requirements, in the contract's order."""
    if worker.max_concurrent == 0:
        return Ineligibility.NOT_REGISTERED
    if not worker.available:
        return Ineligibility.UNAVAILABLE
    if need.language >= 64 or not (worker.languages % U64) >> need.language & 1:
        return Ineligibility.LANGUAGE
    if worker.expertise & need.expertise != need.expertise:
        return Ineligibility.EXPERTISE
    if worker.certifications & need.certifications != need.certifications:
        return Ineligibility.CERTIFICATION
    if worker.active_jobs >= worker.max_concurrent:
        return Ineligibility.AT_CAPACITY
    return Ineligibility.NONE


def may_accept(worker: WorkerRecord, need: JobNeed) -> bool:
    """The escrow would let `worker` accept: eligible, and the job is open to it (offeredTo)."""
    if need.offered_to is not None and need.offered_to.lower() != worker.address.lower():
        return False
    return eligibility(worker, need) == Ineligibility.NONE


def why_nobody(workers: list[WorkerRecord], need: JobNeed) -> str:
    """Which requirement empties the pool, said for the agent (checked in the order a person asks)."""
    pool = [w for w in workers if w.max_concurrent > 0]
    steps = (
        (lambda w: need.language < 64 and (w.languages % U64) >> need.language & 1,
         f"no registered worker speaks {need.language_code}"),
        (lambda w: w.expertise & need.expertise == need.expertise,
         f"no worker who speaks {need.language_code} has every expertise bit of {need.expertise:#x}"),
        (lambda w: w.certifications & need.certifications == need.certifications,
         f"no worker who speaks {need.language_code} with that expertise holds certifications "
         f"{need.certifications:#x}"),
        (lambda w: w.available, "every worker who meets the requirements is unavailable"),
        (lambda w: w.active_jobs < w.max_concurrent,
         "every worker who meets the requirements is at capacity"),
        (lambda w: need.offered_to is None or w.address.lower() == need.offered_to.lower(),
         f"the job is reserved for {need.offered_to}, who does not meet the requirements now"),
    )  # fmt: skip
    for keep, reason in steps:
        pool = [w for w in pool if keep(w)]
        if not pool:
            return reason
    return ""
