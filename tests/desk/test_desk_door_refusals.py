"""Bad input at every door the agent's side uses (the HTTP API with the SDK over it, the MCP server, the
CLI): an agent without USDC, then without allowance, a wrong API key, an unknown job, and the chain
going away, each refused with the desk's own message while its state stays readable."""

import os
import subprocess

import anyio
import httpx
import pytest
from eth_account import Account
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from devtools.daemons import program
from devtools.rpc_proxy import RpcProxy
from devtools.system import USDC
from escalation.desk.api import desk_app
from escalation.desk.errors import DeskError, InsufficientFunds, UnknownJob
from escalation.desk.sdk import DeskClient, DeskUnavailable
from escalation.desk.serving import ServerThread
from tests.desk.conftest import request

API_KEY = "refusals-key"
NO_USDC = r"holds 0 USDC; this needs 20\.7 USDC \(reward \+ fees\): fund it, nothing was posted"
NO_ALLOWANCE = "approve the escrow or turn use_permit on; nothing was posted"
CHAIN_AWAY = r"RPC (unreachable|does not answer)"


@pytest.fixture
def poor_desk(chain, make_desk, rpc_url):
    """A desk posting from a standing allowance, for an agent with gas and no USDC, whose RPC can go away."""
    poor = Account.create()
    chain.provider.set_balance(poor.address, 10**20)
    proxy = RpcProxy(rpc_url, client_version="anvil/v1.7.1").__enter__()
    service = make_desk(agent=poor, url=proxy.url, use_permit=False)
    server = ServerThread(desk_app(service, API_KEY, "hook")).start()
    yield service, server, proxy, poor
    server.stop()
    proxy.__exit__()


def _fund(system, deployer, agent) -> None:
    system.token.mint(agent.address, 100 * USDC, sender=deployer)  # USDC now, but no allowance


def test_http_api_and_sdk_refuse_with_the_desks_message(poor_desk, system, deployer):
    _, server, proxy, poor = poor_desk
    client = DeskClient(server.url, API_KEY)
    with pytest.raises(InsufficientFunds, match=NO_USDC):
        client.escalate(request())
    raw = httpx.post(f"{server.url}/v1/escalations", json=request().model_dump(mode="json"),
                     headers={"X-Api-Key": API_KEY})  # fmt: skip
    assert raw.status_code == 402
    _fund(system, deployer, poor)
    with pytest.raises(InsufficientFunds, match=NO_ALLOWANCE):
        client.escalate(request())
    with pytest.raises(DeskError, match="refused the API key: wrong or missing X-Api-Key"):
        DeskClient(server.url, "wrong").escalate(request())
    proxy.__exit__()  # the chain goes away
    with pytest.raises(DeskUnavailable, match=CHAIN_AWAY):
        client.escalate(request())
    assert httpx.post(f"{server.url}/v1/escalations", json=request().model_dump(mode="json"),
                      headers={"X-Api-Key": API_KEY}).status_code == 503  # fmt: skip
    with pytest.raises(UnknownJob, match="no escalation 'esc-gone'"):
        client.status("esc-gone")  # reads answer from the desk's database
    assert client.jobs() == [] and client.budget().committed == 0  # nothing half-made by the refusals


def _mcp(url: str, api_key: str, calls: list[tuple[str, dict]]) -> list:
    async def main():
        params = StdioServerParameters(
            command=program("escalation-desk"), args=["mcp"],
            env={"ESCALATION_DESK_URL": url, "ESCALATION_DESK_API_KEY": api_key,
                 "APE_DATA_FOLDER": os.environ.get("APE_DATA_FOLDER", "")},
        )  # fmt: skip
        async with stdio_client(params) as (read, write), ClientSession(read, write) as mcp:
            await mcp.initialize()
            results = []
            for name, arguments in calls:
                if name == "-":  # a step of the test between two tool calls
                    arguments["do"]()
                    continue
                results.append(await mcp.call_tool(name, arguments))
            return results

    return anyio.run(main)


def test_mcp_tools_refuse_with_the_desks_message(poor_desk, system, deployer):
    _, server, proxy, poor = poor_desk
    escalate = ("escalate", {"request": request().model_dump(mode="json")})
    (wrong_key,) = _mcp(server.url, "wrong", [("status", {"ref": "esc-1"})])
    results = _mcp(server.url, API_KEY, [
        escalate,
        ("-", {"do": lambda: _fund(system, deployer, poor)}),
        escalate,
        ("-", {"do": proxy.__exit__}),
        escalate,
        ("status", {"ref": "esc-gone"}),
    ])  # fmt: skip
    assert all(result.is_error for result in (wrong_key, *results))
    texts = [result.content[0].text for result in (wrong_key, *results)]
    assert "refused the API key" in texts[0]
    assert "holds 0 USDC" in texts[1] and texts[1].endswith("fund it, nothing was posted")
    assert NO_ALLOWANCE in texts[2]
    assert "RPC unreachable" in texts[3] or "RPC does not answer" in texts[3]
    assert "no escalation 'esc-gone' at this desk" in texts[4]


def test_cli_refuses_in_one_line(poor_desk, system, deployer, tmp_path):
    _, server, proxy, poor = poor_desk
    ticket = tmp_path / "ticket.json"
    ticket.write_text(request().model_dump_json())

    def refused(*args: str, api_key: str = API_KEY) -> str:
        env = {**os.environ, "ESCALATION_DESK_URL": server.url, "ESCALATION_DESK_API_KEY": api_key}
        result = subprocess.run([program("escalation-desk"), *args], env=env, capture_output=True, text=True,
                                timeout=60)  # fmt: skip
        assert result.returncode == 1 and result.stdout == "", result
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("escalation-desk: ")
        return line

    assert "holds 0 USDC" in refused("post", str(ticket))
    _fund(system, deployer, poor)
    assert NO_ALLOWANCE in refused("post", str(ticket))
    assert "refused the API key" in refused("post", str(ticket), api_key="wrong")
    proxy.__exit__()
    assert "RPC unreachable" in (away := refused("post", str(ticket))) or "does not answer" in away
    assert "no escalation 'esc-gone'" in refused("show", "esc-gone")
