"""JSON-RPC, one request or a batch, over a lean HTTP endpoint (rpc_http) or web3.py's provider; an
endpoint that is down raises."""

import http.client
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from web3 import Web3

from .errors import ChainUnavailable, RpcError
from .rpc_http import HttpEndpoint, proxied

log = logging.getLogger(__name__)
T = TypeVar("T")
Request = tuple[str, list[Any]]  # method and params of one JSON-RPC request
_CONNECTION_ERRORS = (requests.ConnectionError, requests.Timeout, OSError, http.client.HTTPException)


class JsonRpc:
    """One JSON-RPC endpoint; connection failures become ChainUnavailable, error answers RpcError."""

    def __init__(self, w3: Web3, endpoint: HttpEndpoint | None = None) -> None:
        self.w3 = w3  # for callers that want web3's contract objects over the same URL
        self._endpoint = endpoint  # None: requests go through w3's provider

    @classmethod
    def over_http(cls, url: str, timeout: float = 10.0) -> "JsonRpc":
        """An endpoint reached over HTTP(S) at `url` (through web3's provider when a proxy is set)."""
        w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))
        return cls(w3, None if proxied(url) else HttpEndpoint(url, timeout))

    def request(self, method: str, *params: Any) -> dict[str, Any]:
        """The whole response to one request, "result" or "error"; an unreachable endpoint raises."""
        try:
            if self._endpoint is not None:
                answer = self._endpoint.post(
                    {"jsonrpc": "2.0", "id": 0, "method": method, "params": list(params)}
                )
                if not isinstance(answer, dict):
                    raise ChainUnavailable(f"{method}: the RPC answered {str(answer)[:200]}")
                return answer
            return self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type,return-value]
        except _CONNECTION_ERRORS as error:
            raise unreachable(error) from error

    def result(self, method: str, *params: Any) -> Any:
        """The result of one request; an error answer raises RpcError."""
        response = self.request(method, *params)
        if "error" in response:
            raise RpcError(f"{method} failed: {response['error']}")
        return response["result"]

    def batch(self, calls: list[Request]) -> list[Any]:
        """Results of a batch request in the order of `calls`; any error in it raises ChainUnavailable."""
        responses = self.batch_raw(calls)
        for response in responses:
            if "error" in response:
                raise ChainUnavailable(f"batch request failed: {response['error']}")
        return [response["result"] for response in responses]

    def batch_raw(self, calls: list[Request]) -> list[dict[str, Any]]:
        """The responses of a batch request in the order of `calls`, errors included."""
        if not calls:
            return []
        try:
            if self._endpoint is not None:
                responses = self._endpoint.post(
                    [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
                )
            else:
                responses = self.w3.provider.make_batch_request(calls)  # type: ignore[arg-type,attr-defined]
        except _CONNECTION_ERRORS as error:
            raise unreachable(error) from error
        if not isinstance(responses, list):
            detail = responses.get("error") if isinstance(responses, dict) else responses
            raise ChainUnavailable(f"batch request refused: {detail}")
        if len(responses) != len(calls):
            raise ChainUnavailable(f"batch of {len(calls)} requests answered with {len(responses)} responses")
        return sorted(responses, key=lambda response: int(response["id"]))


def unreachable(error: Exception) -> ChainUnavailable:
    """The error raised when the endpoint cannot be reached at all."""
    return ChainUnavailable(f"RPC unreachable ({type(error).__name__}): check that the node is up")


def patiently(
    action: Callable[[], T], seconds: float, what: str, sleep: Callable[[float], None] = time.sleep
) -> T:
    """`action()`, tried again after ChainUnavailable with a growing pause until `seconds` have passed.

    One failed request through a flaky RPC must not end a daemon's start; an RPC that stays down does.
    """
    deadline, pause = time.monotonic() + seconds, 0.5
    while True:
        try:
            return action()
        except ChainUnavailable as error:
            if time.monotonic() + pause > deadline:
                raise
            log.warning("%s failed, retrying in %.1fs: %s", what, pause, error)
            sleep(pause)
            pause = min(pause * 2, 5.0)
