"""The desk's commands: escalate a ticket, approve, cancel, dispute, appeal, withdraw, and its status views.

Every command checks everything it can before it sends (policy, funds, a dry run) and records what
it sent in the desk's database in the same transaction as the signed bytes (runtime.sender), so a
restarted desk knows what is in flight.
"""

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import Connection, Engine, delete, func, select, update

from protocol_core.context import ContextBundle
from protocol_core.languages import language_index
from protocol_core.terms import ZERO_ADDRESS, JobTerms, Requirements
from runtime.db import transaction
from runtime.sender import Call, Sender

from .bundle import build_context
from .contracts import DeskContracts, needs_chain
from .errors import InsufficientFunds, NotAllowedNow, UnknownJob, WouldRevert
from .permits import forget_allowance, plan_funding, refused_permit, sign_post_permit, take_funding
from .policy import SpendPolicy, Verdict, usdc
from .requests import Budget, DeskStatus, EscalationRequest, JobView, SealView
from .tables import calls, jobs, seals

PERMIT_TTL = 3_600  # seconds a post's permit stays valid
CANCELLABLE = (DeskStatus.AWAITING_APPROVAL, DeskStatus.OPEN)
DISPUTABLE = (DeskStatus.SUBMITTED, DeskStatus.APPROVED)


@dataclass(frozen=True)
class DeskConfig:
    """What the company decides once for every escalation."""

    policy: SpendPolicy
    redact_kinds: tuple[str, ...]  # kinds of personal data removed before sealing
    use_permit: bool = True  # post with an EIP-2612 permit (else from a standing allowance)
    permit_version: str = "1"  # the token's EIP-712 domain version (Circle's USDC: "2")
    permit_allowance: int = 0  # most one permit lets the escrow pull; 0: the rest of the day's budget


class Desk:
    """Escalations in, jobs on chain out; the desk's database is the memory of every job."""

    def __init__(
        self,
        engine: Engine,
        contracts: DeskContracts,
        sender: Sender,
        agent: LocalAccount,
        confirmer: LocalAccount,
        config: DeskConfig,
        chain_id: int,
    ) -> None:
        self.engine, self.contracts, self.sender = engine, contracts, sender
        self.agent, self.confirmer, self.config, self.chain_id = agent, confirmer, config, chain_id

    @needs_chain
    def escalate(self, request: EscalationRequest, approved: bool = False) -> JobView:
        """Builds the context and the terms, checks policy and funds, and posts (or waits for approval)."""
        bundle, report = build_context(request, self.config.redact_kinds)
        oracle_fee, protocol_fee = self.contracts.escrow.quote(request.reward)
        total = request.reward + oracle_fee + protocol_fee
        day = datetime.now(UTC).date().isoformat()
        verdict = self.config.policy.check(request.reward, total, self.committed(day), approved)
        desk_id = "esc-" + secrets.token_hex(8)
        with transaction(self.engine) as db:
            db.execute(
                jobs.insert().values(
                    desk_id=desk_id, ticket_ref=request.ticket_ref, request=request.model_dump_json(),
                    context=bundle.canonical(), redactions=json.dumps(report.counts), total=total, day=day,
                    status=DeskStatus.AWAITING_APPROVAL, dirty=False, callback_url=request.callback_url,
                    created_at=time.time(),
                )
            )  # fmt: skip
        if verdict is Verdict.NEEDS_APPROVAL:
            return self.view(desk_id)
        try:
            return self._post(desk_id)
        except Exception:  # refused before anything was sent: the escalation leaves no trace, no spend
            unsent = (jobs.c.desk_id == desk_id) & (jobs.c.status == DeskStatus.AWAITING_APPROVAL)
            with transaction(self.engine) as db:
                db.execute(delete(jobs).where(unsent))
            raise

    @needs_chain
    def approve(self, ref: str) -> JobView:
        """A person at the company approves an escalation over the threshold: it is posted now."""
        row = self.row(ref)
        if row.status != DeskStatus.AWAITING_APPROVAL:
            raise NotAllowedNow(f"{row.desk_id} is {row.status}, not awaiting approval")
        request = EscalationRequest.model_validate_json(row.request)
        self.config.policy.check(request.reward, row.total, self.committed(row.day) - row.total, True)
        return self._post(row.desk_id)

    def _post(self, desk_id: str) -> JobView:
        row = self.row(desk_id)
        request = EscalationRequest.model_validate_json(row.request)
        bundle = ContextBundle.parse(row.context)
        terms = self._terms(request, bundle.spec_hash())
        self._check_funds(terms.total)
        funding, what, call = None, f"posting {desk_id}", self.contracts.escrow.post_job(terms)
        if self.config.use_permit:  # a permit for the rest of the day's budget: later posts need none
            value = self.config.policy.daily_budget - self.committed(row.day) + terms.total
            funding = plan_funding(self.engine, self.contracts, self.agent.address, terms.total,
                                   min(value, self.config.permit_allowance or value))  # fmt: skip
        if funding is not None and funding.nonce is not None:
            what += f" with a permit for {usdc(funding.value)} USDC"
            permit = sign_post_permit(self.contracts, self.agent, self.chain_id, self.config.permit_version,
                                      funding, self._now() + PERMIT_TTL)  # fmt: skip
            call = self.contracts.escrow.post_job_with_permit(terms, permit)
        try:
            gas = self.contracts.gas(self.agent.address, call.to, call.data, what)
        except WouldRevert as error:  # a refused permit leaves the allowance short: say what to check
            raise refused_permit(error, funding, self.config.permit_version) from error
        job_id = "0x" + terms.digest().hex()

        def claim(db: Connection, purpose: tuple[str, str], nonce: int) -> bool:
            db.execute(calls.insert().values(nonce=nonce, desk_id=purpose[0], action=purpose[1]))
            if funding is not None:  # taken with the signed bytes: a refused post takes none
                take_funding(db, funding)
            db.execute(
                update(jobs).where(jobs.c.desk_id == desk_id)
                .values(job_id=job_id, terms=terms.model_dump_json(), status=DeskStatus.POSTING,
                        total=terms.total, deadline=terms.accept_by)
            )  # fmt: skip
            return True

        self._send(Call(call.to, call.data, gas, (desk_id, "post")), claim)
        return self.view(desk_id)

    def _terms(self, request: EscalationRequest, spec_hash: bytes) -> JobTerms:
        oracle_fee, protocol_fee = self.contracts.escrow.quote(request.reward)
        now = self._now()
        return JobTerms(
            agent=self.agent.address, reward=request.reward, confirmer=self.confirmer.address,
            oracle_fee=oracle_fee, protocol_fee=protocol_fee,
            offered_to=request.offered_to or ZERO_ADDRESS, accept_by=now + request.accept_within_s,
            resolve_by=now + request.accept_within_s + request.resolve_within_s,
            challenge_window=request.challenge_window_s, spec_hash=spec_hash,
            requirements=Requirements(language=language_index(request.language),
                                      expertise=request.expertise, certifications=request.certifications),
        )  # fmt: skip

    def _now(self) -> int:
        """The later of the wall clock and the chain's clock: deadlines are checked by the chain."""
        latest = self.contracts.chain.block("latest")
        return max(int(time.time()), latest.timestamp if latest is not None else 0)

    def _check_funds(self, amount: int) -> None:
        balance = int(self.contracts.token_view("balanceOf", self.agent.address))
        if balance < amount:
            raise InsufficientFunds(
                f"the agent {self.agent.address} holds {usdc(balance)} USDC; this needs {usdc(amount)} "
                "USDC (reward + fees): fund it, nothing was posted"
            )
        if not self.config.use_permit:
            allowance = int(
                self.contracts.token_view("allowance", self.agent.address, self.contracts.escrow.address)
            )
            if allowance < amount:
                raise InsufficientFunds(
                    f"the escrow may pull {usdc(allowance)} USDC from the agent, this needs {usdc(amount)}: "
                    "approve the escrow or turn use_permit on; nothing was posted"
                )

    @needs_chain
    def cancel(self, ref: str) -> JobView:
        """Withdraws an escalation: not yet posted, it is dropped; open, the job is cancelled on chain."""
        row = self.row(ref)
        if row.status == DeskStatus.AWAITING_APPROVAL:
            with transaction(self.engine) as db:
                db.execute(update(jobs).where(jobs.c.desk_id == row.desk_id).values(status=DeskStatus.FAILED))
            return self.view(row.desk_id)
        if row.status != DeskStatus.OPEN:
            raise NotAllowedNow(f"{row.desk_id} is {row.status}: only an open job can be cancelled")
        call = self.contracts.escrow.cancel_job(JobTerms.model_validate_json(row.terms))
        return self.send_for(row.desk_id, call, "cancel")

    @needs_chain
    def dispute(self, ref: str, reason: str, evidence_uri: str | None = None) -> JobView:
        """Disputes the verdict on the customer's word; pays fee and bond from the agent's funds."""
        row = self.row(ref)
        if row.status not in DISPUTABLE:
            raise NotAllowedNow(
                f"{row.desk_id} is {row.status}: the agent disputes an approval or a late verdict"
            )
        terms = JobTerms.model_validate_json(row.terms)
        fee, bond = self.contracts.escrow.dispute_cost(terms.reward)
        self._ensure_allowance(row.desk_id, fee + bond)
        view = self.send_for(row.desk_id, self.contracts.escrow.dispute(terms), "dispute")
        statement = evidence_uri or "data:text/plain," + reason
        self.send_for(row.desk_id, self.contracts.escrow.submit_dispute_evidence(terms.digest(), statement),
                     "statement", dry_run=False)  # fmt: skip
        return view

    @needs_chain
    def appeal(self, ref: str) -> JobView:
        """Appeals the current ruling of the job's dispute."""
        row = self.row(ref)
        if row.status != DeskStatus.DISPUTED:
            raise NotAllowedNow(f"{row.desk_id} is {row.status}: only a disputed job can be appealed")
        self._ensure_allowance(row.desk_id, self.contracts.appeal_cost(row.dispute_id))  # the escrow pulls it
        return self.send_for(
            row.desk_id, self.contracts.escrow.appeal(JobTerms.model_validate_json(row.terms)), "appeal"
        )

    @needs_chain
    def withdraw(self) -> int:
        """Withdraws the agent's credited refunds to itself; returns the amount (0: nothing sent)."""
        credit = self.contracts.escrow.credit_of(self.agent.address)
        if credit:
            call = self.contracts.escrow.withdraw(self.agent.address)
            gas = self.contracts.gas(self.agent.address, call.to, call.data, "withdrawing")
            self._send(Call(call.to, call.data, gas, ("-", "withdraw")))
        return credit

    def _ensure_allowance(self, desk_id: str, amount: int) -> None:
        self._check_funds(amount)
        with transaction(self.engine) as db:  # this pull leaves the posts' allowance unknown: permit again
            forget_allowance(db)
        escrow = self.contracts.escrow.address
        if int(self.contracts.token_view("allowance", self.agent.address, escrow)) < amount:
            data = self.contracts.approve_data(escrow, amount)
            gas = self.contracts.gas(self.agent.address, self.contracts.token.address, data, "approving")
            self._send(Call(self.contracts.token.address, data, gas, (desk_id, "approve")))

    def send_for(self, desk_id: str, call: Any, action: str, dry_run: bool = True) -> JobView:
        """Sends `call` for the job with the agent's key (dry-run first unless told); its view after."""
        what = f"{action} of {desk_id}"
        gas = self.contracts.gas(self.agent.address, call.to, call.data, what) if dry_run else 300_000
        self._send(Call(call.to, call.data, gas, (desk_id, action)))
        return self.view(desk_id)

    def _send(self, call: Call[tuple[str, str]], claim: Any = None) -> None:
        def record(db: Connection, purpose: tuple[str, str], nonce: int) -> bool:
            if claim is not None:
                return bool(claim(db, purpose, nonce))
            db.execute(calls.insert().values(nonce=nonce, desk_id=purpose[0], action=purpose[1]))
            return True

        self.sender.send([call], self.contracts.chain.head(), record)

    def committed(self, day: str) -> int:
        """What escalations of `day` (UTC) committed: posted or waiting, not failed."""
        with self.engine.connect() as db:
            total = db.execute(
                select(func.sum(jobs.c.total))
                .where(jobs.c.day == day)
                .where(jobs.c.status != DeskStatus.FAILED)
            ).scalar()
        return int(total or 0)

    def budget(self) -> Budget:
        """Today's committed spend (UTC) and the policy's limits."""
        day = datetime.now(UTC).date().isoformat()
        policy = self.config.policy
        return Budget(day=day, committed=self.committed(day), daily_budget=policy.daily_budget,
                      max_reward=policy.max_reward, approval_threshold=policy.approval_threshold)  # fmt: skip

    def row(self, ref: str) -> Any:
        """The desk's row of an escalation, by desk id, job id or ticket ref; UnknownJob if none."""
        with self.engine.connect() as db:
            row = db.execute(
                select(jobs)
                .where((jobs.c.desk_id == ref) | (jobs.c.job_id == ref.lower()) | (jobs.c.ticket_ref == ref))
                .order_by(jobs.c.created_at.desc())
            ).first()  # fmt: skip
        if row is None:
            raise UnknownJob(f"no escalation {ref!r} at this desk: give its desk id, job id or ticket ref")
        return row

    def view(self, ref: str) -> JobView:
        """What the desk knows of one escalation, by desk id, job id or ticket ref."""
        row = self.row(ref)
        with self.engine.connect() as db:
            sealed = db.execute(
                select(seals).where(seals.c.desk_id == row.desk_id).order_by(seals.c.id)
            ).all()
        request = EscalationRequest.model_validate_json(row.request)
        return JobView(
            desk_id=row.desk_id, ticket_ref=row.ticket_ref, status=DeskStatus(row.status), job_id=row.job_id,
            reward=request.reward, total=row.total, worker=row.worker, deadline=row.deadline,
            dispute_id=row.dispute_id, redactions=json.loads(row.redactions),
            seals=[SealView(reader=s.reader, role=s.role, uri=s.uri, blob=s.blob) for s in sealed],
            confirmation=json.loads(row.confirmation) if row.confirmation else None,
        )  # fmt: skip

    def list(self, limit: int = 100) -> list[JobView]:
        """The newest escalations first."""
        with self.engine.connect() as db:
            ids = db.execute(select(jobs.c.desk_id).order_by(jobs.c.created_at.desc()).limit(limit)).scalars()
            return [self.view(desk_id) for desk_id in list(ids)]
