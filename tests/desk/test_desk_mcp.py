"""The desk's MCP server as a real `escalation-desk mcp` process, driven by a real MCP client session
over stdio against a desk serving its HTTP API on 127.0.0.1: the tools, their results and refusals."""

import os

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from devtools.daemons import program
from devtools.system import USDC
from escalation.desk.api import desk_app
from escalation.desk.serving import ServerThread
from tests.desk.conftest import GDPR, ROUTINE, follow, request

API_KEY = "mcp-desk-key"


@pytest.fixture
def served(make_desk):
    service = make_desk()
    server = ServerThread(desk_app(service, API_KEY, "hook")).start()
    yield service, server
    server.stop()


def session(url: str, script):
    """Runs `script(session)` in an MCP client session with `escalation-desk mcp` over stdio."""

    async def main():
        params = StdioServerParameters(
            command=program("escalation-desk"), args=["mcp"],
            env={"ESCALATION_DESK_URL": url, "ESCALATION_DESK_API_KEY": API_KEY,
                 "APE_DATA_FOLDER": os.environ.get("APE_DATA_FOLDER", "")},
        )  # fmt: skip
        async with stdio_client(params) as (read, write), ClientSession(read, write) as mcp:
            await mcp.initialize()
            return await script(mcp)

    return anyio.run(main)


def test_mcp_tools_decide_escalate_follow_and_cancel(served):
    service, server = served

    async def script(mcp):
        tools = {tool.name for tool in (await mcp.list_tools()).tools}
        gdpr = await mcp.call_tool("decide", {"ticket": GDPR})
        routine = await mcp.call_tool("decide", {"ticket": ROUTINE})
        posted = await mcp.call_tool(
            "escalate", {"request": request(ticket_ref="T-MCP").model_dump(mode="json")}
        )
        return tools, gdpr, routine, posted

    tools, gdpr, routine, posted = session(server.url, script)
    assert tools == {"decide", "escalate", "status", "cancel", "dispute"}
    assert not gdpr.is_error and gdpr.structured_content["should_escalate"] is True
    assert "compliance_legal" in gdpr.structured_content["triggers"]
    assert gdpr.structured_content["reasons"] and gdpr.structured_content["requirements"]["language"] == "en"
    assert routine.structured_content["should_escalate"] is False
    desk_id = posted.structured_content["desk_id"]
    assert posted.structured_content["status"] == "posting"
    follow(service, desk_id, "open")

    async def later(mcp):
        return (
            await mcp.call_tool("status", {"ref": "T-MCP"}),
            await mcp.call_tool("cancel", {"ref": desk_id}),
        )

    status, cancelled = session(server.url, later)
    assert status.structured_content["status"] == "open" and status.structured_content["desk_id"] == desk_id
    assert not cancelled.is_error
    follow(service, desk_id, "refunded")


def test_mcp_refusals_reach_the_model_as_tool_errors(served):
    service, server = served
    view = service.desk.escalate(request())
    follow(service, view.desk_id, "open")

    async def script(mcp):
        return [
            await mcp.call_tool("status", {"ref": "esc-nope"}),
            await mcp.call_tool("escalate", {"request": request(reward=150 * USDC).model_dump(mode="json")}),
            await mcp.call_tool("dispute", {"ref": view.desk_id, "reason": "not fixed"}),
        ]

    texts = []
    for result in session(server.url, script):
        assert result.is_error
        texts.append(result.content[0].text)
    assert "no escalation 'esc-nope' at this desk" in texts[0]
    assert "over the policy's maximum of 100 USDC" in texts[1]
    assert "is open: the agent disputes an approval or a late verdict" in texts[2]
