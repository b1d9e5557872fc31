"""The desk's view of the deployed contracts: typed bindings, the token's permit reads, dry runs."""

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import requests
from eth_utils import to_checksum_address

from protocol_core.abi import abi
from protocol_core.bindings import Escrow, Pool, Registry
from protocol_core.deployment import Addresses
from runtime.abi import error_names
from runtime.chain import Chain
from runtime.errors import ChainUnavailable

from .errors import WouldRevert

P = ParamSpec("P")
R = TypeVar("R")
GAS_MARGIN = 1.25  # the estimate is multiplied by this: a job's first post writes fresh slots
_ERRORS = {
    **error_names(abi("JobEscrow")),
    **error_names(abi("TestUSDC")),
    **error_names(abi("ArbitrationPool")),
}


class DeskContracts:
    """Escrow, registry, pool and token of one deployment, read through one chain."""

    def __init__(self, chain: Chain, addresses: Addresses) -> None:
        w3 = chain.rpc.w3
        self.chain = chain
        self.escrow = Escrow(w3, addresses.escrow)
        self.registry = Registry(w3, addresses.registry)
        self.pool = Pool(w3, addresses.arbitrator)
        self.token = w3.eth.contract(address=to_checksum_address(addresses.token), abi=abi("TestUSDC"))
        self._pool = w3.eth.contract(
            address=to_checksum_address(addresses.arbitrator), abi=abi("ArbitrationPool")
        )

    def token_view(self, function: str, *args: Any) -> Any:
        """A view of the settlement token (balanceOf, allowance, nonces, name)."""
        return getattr(self.token.functions, function)(*args).call()

    def appeal_cost(self, dispute_id: int) -> int:
        """What the next round of `dispute_id` costs the side that appeals (the pool's appealCost)."""
        return int(self._pool.functions.appealCost(dispute_id).call())

    def approve_data(self, spender: str, amount: int) -> bytes:
        """Calldata of token.approve(spender, amount)."""
        return bytes.fromhex(self.token.encode_abi("approve", args=[spender, amount])[2:])

    def gas(self, sender: str, to: str, data: bytes, what: str) -> int:
        """Gas for the call with a margin; WouldRevert naming the contract's error when it would fail."""
        (result,) = self.chain.dry_runs(sender, to, [data], _ERRORS)
        if isinstance(result, str):
            raise WouldRevert(f"{what} would revert ({result}); nothing was sent")
        return int(result * GAS_MARGIN)


def needs_chain(method: Callable[P, R]) -> Callable[P, R]:
    """Turns an unreachable RPC met through web3's contract calls into ChainUnavailable."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as error:
            raise ChainUnavailable(
                f"the RPC does not answer ({type(error).__name__}); try again later"
            ) from error

    return call
