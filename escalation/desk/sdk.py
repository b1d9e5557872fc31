"""The typed Python client an agent calls: the same methods over the desk's HTTP API (`DeskClient`)
or in the desk's own process (`escalation.desk.inprocess.InProcessDesk`)."""

import time
from abc import ABC, abstractmethod

import httpx

from escalation.models import Decision, Ticket

from .errors import (
    BadProof,
    DeskError,
    InsufficientFunds,
    InvalidRequest,
    NotAllowedNow,
    NotYourJob,
    PolicyRefusal,
    UnknownJob,
)
from .requests import API_KEY_HEADER, Budget, DeskStatus, EscalationRequest, JobView, Withdrawal

_ERRORS: dict[int, type[DeskError]] = {
    400: InvalidRequest, 404: UnknownJob, 422: PolicyRefusal, 402: InsufficientFunds, 409: NotAllowedNow,
    403: NotYourJob,
}  # fmt: skip


class DeskUnavailable(DeskError):
    """The desk (or its chain) cannot be reached now; try again later."""


class DeskDoor(ABC):
    """What an agent (or a person, or the MCP server) can ask of a desk, wherever it runs."""

    @abstractmethod
    def escalate(self, request: EscalationRequest) -> JobView:
        """Hands the ticket to a human; the job is posted, or waits for approval."""

    @abstractmethod
    def status(self, ref: str) -> JobView:
        """Where the escalation is (by desk id, job id or ticket ref)."""

    @abstractmethod
    def jobs(self, limit: int = 100) -> list[JobView]:
        """The newest escalations first."""

    @abstractmethod
    def approve(self, ref: str) -> JobView:
        """A person at the company approves an escalation over the threshold; it is posted."""

    @abstractmethod
    def cancel(self, ref: str) -> JobView:
        """Cancels an escalation nobody has accepted."""

    @abstractmethod
    def dispute(self, ref: str, reason: str, evidence_uri: str | None = None) -> JobView:
        """Disputes the verdict on the customer's word."""

    @abstractmethod
    def budget(self) -> Budget:
        """Today's committed spend and the policy."""

    @abstractmethod
    def withdraw(self) -> Withdrawal:
        """Withdraws the agent's credited refunds."""

    @abstractmethod
    def decide(self, ticket: Ticket) -> Decision:
        """Should the agent escalate this ticket? Nothing is posted."""

    def wait(
        self, ref: str, until: set[DeskStatus] | None = None, timeout: float = 600, poll: float = 1.0
    ) -> JobView:
        """Polls until the job reaches one of `until` (a final status by default); TimeoutError after."""
        deadline = time.monotonic() + timeout
        while True:
            view = self.status(ref)
            if (view.status in until) if until else view.status.final:
                return view
            if time.monotonic() > deadline:
                raise TimeoutError(f"{ref} is still {view.status} after {timeout:.0f}s")
            time.sleep(poll)  # the desk's status is polled; the agent may also take callbacks


class DeskClient(DeskDoor):
    """A desk reached at `base_url` with the company's API key."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 30.0) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers={API_KEY_HEADER: api_key}, timeout=timeout
        )

    def escalate(self, request: EscalationRequest) -> JobView:
        body = request.model_dump(mode="json")
        return JobView.model_validate(self._call("POST", "/v1/escalations", json=body))

    def status(self, ref: str) -> JobView:
        return JobView.model_validate(self._call("GET", f"/v1/jobs/{ref}"))

    def jobs(self, limit: int = 100) -> list[JobView]:
        rows = self._call("GET", "/v1/jobs", params={"limit": limit})
        return [JobView.model_validate(row) for row in rows]  # type: ignore[attr-defined]

    def approve(self, ref: str) -> JobView:
        return JobView.model_validate(self._call("POST", f"/v1/jobs/{ref}/approve"))

    def cancel(self, ref: str) -> JobView:
        return JobView.model_validate(self._call("POST", f"/v1/jobs/{ref}/cancel"))

    def dispute(self, ref: str, reason: str, evidence_uri: str | None = None) -> JobView:
        body = {"reason": reason, "evidence_uri": evidence_uri}
        return JobView.model_validate(self._call("POST", f"/v1/jobs/{ref}/dispute", json=body))

    def budget(self) -> Budget:
        return Budget.model_validate(self._call("GET", "/v1/budget"))

    def withdraw(self) -> Withdrawal:
        return Withdrawal.model_validate(self._call("POST", "/v1/withdraw"))

    def decide(self, ticket: Ticket) -> Decision:
        return Decision.model_validate(self._call("POST", "/v1/decide", json=ticket.model_dump(mode="json")))

    def _call(self, method: str, path: str, **kwargs: object) -> object:
        try:
            response = self._http.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError as error:
            raise DeskUnavailable(f"cannot reach the desk at {self._http.base_url}: {error}") from error
        if response.status_code < 400:
            return response.json()
        detail = response.json().get("detail")
        if response.status_code == 401 and API_KEY_HEADER in str(detail):
            raise DeskError(f"the desk refused the API key: {detail}")
        if response.status_code == 401:  # the worker door: a signed request it did not accept
            raise BadProof(str(detail))
        if response.status_code == 503:
            raise DeskUnavailable(str(detail))
        if isinstance(detail, list) and detail:  # FastAPI's validation errors: the first one says enough
            where = ".".join(str(part) for part in detail[0].get("loc", ())[1:]) or "body"
            raise InvalidRequest(f"{where}: {detail[0].get('msg')}; fix the request and send it again")
        raise _ERRORS.get(response.status_code, DeskError)(str(detail))

    def close(self) -> None:
        """Closes the connection."""
        self._http.close()
