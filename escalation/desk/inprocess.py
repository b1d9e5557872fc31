"""The SDK in the desk's own process: the same door as over HTTP, calling the desk service directly."""

from escalation.models import Decision, Ticket

from .requests import Budget, EscalationRequest, JobView, Withdrawal
from .sdk import DeskDoor
from .wiring import DeskService


class InProcessDesk(DeskDoor):
    """A desk service used directly (an agent that runs the desk inside itself); commands take turns
    with the follow loop on the service's lock, as the HTTP API's do."""

    def __init__(self, service: DeskService) -> None:
        self._service = service

    def escalate(self, request: EscalationRequest) -> JobView:
        with self._service.lock:
            return self._service.desk.escalate(request)

    def status(self, ref: str) -> JobView:
        return self._service.desk.view(ref)

    def jobs(self, limit: int = 100) -> list[JobView]:
        return self._service.desk.list(limit)

    def approve(self, ref: str) -> JobView:
        with self._service.lock:
            return self._service.desk.approve(ref)

    def cancel(self, ref: str) -> JobView:
        with self._service.lock:
            return self._service.desk.cancel(ref)

    def dispute(self, ref: str, reason: str, evidence_uri: str | None = None) -> JobView:
        with self._service.lock:
            return self._service.desk.dispute(ref, reason, evidence_uri)

    def budget(self) -> Budget:
        return self._service.desk.budget()

    def withdraw(self) -> Withdrawal:
        with self._service.lock:
            return Withdrawal(amount=self._service.desk.withdraw())

    def decide(self, ticket: Ticket) -> Decision:
        return self._service.decider.decide(ticket)
