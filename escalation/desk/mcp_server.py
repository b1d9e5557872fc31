"""The desk's MCP server, so an LLM-based support agent escalates with a tool call.

It is a thin process over a desk door (the running desk's HTTP API, by default): the desk daemon
owns the agent key and its nonces, so a second process never sends for it. Refusals reach the model
as tool errors with the desk's own one-line message (what was wrong and what to do).
"""

from collections.abc import Callable
from typing import TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from escalation.errors import EscalationError
from escalation.models import Decision, Ticket

from .requests import EscalationRequest, JobView
from .sdk import DeskDoor

R = TypeVar("R")
INSTRUCTIONS = (
    "The agent's desk hands support tickets to paid human specialists. Call `decide` with the "
    "conversation to learn whether a ticket should go to a human and what job it would post; "
    "`escalate` posts it (rewards in USDC base units, 6 decimals); `status` follows it by desk id, "
    "job id or ticket ref; `cancel` withdraws an escalation nobody accepted; `dispute` contests a "
    "verdict on the customer's word."
)


def mcp_server(door: DeskDoor) -> MCPServer:
    """An MCP server whose tools call `door`."""
    server: MCPServer = MCPServer("escalation-desk", instructions=INSTRUCTIONS)

    @server.tool()
    def decide(ticket: Ticket) -> Decision:
        """Should this ticket go to a human? The decision, its triggers and reasons, the job it would post."""
        return _call(lambda: door.decide(ticket))

    @server.tool()
    def escalate(request: EscalationRequest) -> JobView:
        """Escalates a ticket to a paid human specialist: posted now, or waiting for a person's approval."""
        return _call(lambda: door.escalate(request))

    @server.tool()
    def status(ref: str) -> JobView:
        """Where an escalation is, by desk id, job id or ticket ref."""
        return _call(lambda: door.status(ref))

    @server.tool()
    def cancel(ref: str) -> JobView:
        """Cancels an escalation nobody has accepted yet; the job's funds come back."""
        return _call(lambda: door.cancel(ref))

    @server.tool()
    def dispute(ref: str, reason: str) -> JobView:
        """Disputes the verdict on a job on the customer's word; `reason` is published as evidence."""
        return _call(lambda: door.dispute(ref, reason))

    return server


def _call(action: Callable[[], R]) -> R:
    try:
        return action()
    except EscalationError as error:  # the desk's refusals are the model's to read
        raise ToolError(str(error)) from error
