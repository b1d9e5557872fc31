"""The typed Python client an agent calls over the desk's HTTP API: escalate, status, wait, cancel..."""

import time

import httpx

from .api import API_KEY_HEADER
from .errors import DeskError, InsufficientFunds, NotAllowedNow, PolicyRefusal, UnknownJob
from .requests import DeskStatus, EscalationRequest, JobView

_ERRORS: dict[int, type[DeskError]] = {
    404: UnknownJob, 422: PolicyRefusal, 402: InsufficientFunds, 409: NotAllowedNow,
}  # fmt: skip


class DeskUnavailable(DeskError):
    """The desk (or its chain) cannot be reached now; try again later."""


class DeskClient:
    """A desk reached at `base_url` with the company's API key."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 30.0) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers={API_KEY_HEADER: api_key}, timeout=timeout
        )

    def escalate(self, request: EscalationRequest) -> JobView:
        """Hands the ticket to a human; the job is posted, or waits for approval."""
        return JobView.model_validate(
            self._call("POST", "/v1/escalations", json=request.model_dump(mode="json"))
        )

    def status(self, ref: str) -> JobView:
        """Where the escalation is (by desk id, job id or ticket ref)."""
        return JobView.model_validate(self._call("GET", f"/v1/jobs/{ref}"))

    def cancel(self, ref: str) -> JobView:
        """Cancels an escalation nobody has accepted."""
        return JobView.model_validate(self._call("POST", f"/v1/jobs/{ref}/cancel"))

    def dispute(self, ref: str, reason: str, evidence_uri: str | None = None) -> JobView:
        """Disputes the verdict on the customer's word."""
        body = {"reason": reason, "evidence_uri": evidence_uri}
        return JobView.model_validate(self._call("POST", f"/v1/jobs/{ref}/dispute", json=body))

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

    def _call(self, method: str, path: str, **kwargs: object) -> object:
        try:
            response = self._http.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError as error:
            raise DeskUnavailable(f"cannot reach the desk at {self._http.base_url}: {error}") from error
        if response.status_code == 401:
            raise DeskError(f"the desk refused the API key: {response.json().get('detail')}")
        if response.status_code == 503:
            raise DeskUnavailable(str(response.json().get("detail")))
        if response.status_code >= 400:
            detail = response.json().get("detail")
            raise _ERRORS.get(response.status_code, DeskError)(str(detail))
        return response.json()

    def close(self) -> None:
        """Closes the connection."""
        self._http.close()
