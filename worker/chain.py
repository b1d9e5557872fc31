"""The worker's view of the chain: the contracts' reads it needs and its own few transactions
(withdraw, dispute, a dispute statement), each dry-run before it is signed and sent."""

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import requests
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from protocol_core.abi import abi
from protocol_core.bindings import Call, Escrow, Pool, Registry
from protocol_core.deployment import Addresses, DeploymentError, load_deployments

from .errors import ChainUnavailable, Refused, WorkerError

P = ParamSpec("P")
R = TypeVar("R")
GAS_MARGIN = 1.25


def needs_chain(method: Callable[P, R]) -> Callable[P, R]:
    """An unreachable RPC becomes ChainUnavailable, with what to do."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (requests.ConnectionError, requests.Timeout, ConnectionError) as error:
            raise ChainUnavailable(detail="refusal.chain_down", kind=type(error).__name__) from error

    return call


def load_addresses(path: Path, network: str) -> Addresses:
    """The deployment `network` recorded in `path`; a clear error when it is not there."""
    try:
        found = load_deployments(Path(path)).get(network)
    except DeploymentError as error:
        raise WorkerError(str(error)) from error
    if found is None:
        raise WorkerError(
            f"{path} has no deployment {network!r}: set WORKER_DEPLOYMENTS_FILE and WORKER_NETWORK"
        )
    return found


class WorkerChain:
    """The escrow, registry, pool and token as the worker reads them; sends only the worker's own calls."""

    def __init__(self, rpc_url: str, addresses: Addresses, timeout: float = 10.0) -> None:
        self.w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
        self.addresses = addresses
        self.escrow = Escrow(self.w3, addresses.escrow)
        self.registry = Registry(self.w3, addresses.registry)
        self.pool = Pool(self.w3, addresses.arbitrator) if addresses.arbitrator else None
        self.arbitrator = (
            self.w3.eth.contract(address=self.pool.address, abi=abi("ArbitrationPool")) if self.pool else None
        )  # the ERC-792 reads the bindings leave out: appealCost, currentRuling, maxRounds
        self.token = self.w3.eth.contract(
            address=Web3.to_checksum_address(addresses.token), abi=abi("TestUSDC")
        )
        self._chain_id: int | None = None

    @property
    @needs_chain
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    @needs_chain
    def now(self) -> int:
        """The latest block's timestamp: the chain's clock, which deadlines are judged by."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    @needs_chain
    def read(self, reader: Callable[..., R], *args: Any) -> R:
        """Any binding read, with the RPC's failures said plainly."""
        return reader(*args)

    @needs_chain
    def block_time(self, block: int) -> int:
        """When block `block` was mined (unix seconds)."""
        return int(self.w3.eth.get_block(block)["timestamp"])

    @needs_chain
    def current_round(self, dispute_id: int) -> int:
        """Index of the dispute's current round: the last one opened (each appeal opens the next)."""
        assert self.pool is not None, "no arbitration pool in this deployment"
        index = 0
        while self.pool.round_of(dispute_id, index + 1).panel_size != 0:
            index += 1
        return index

    @needs_chain
    def arbitration(self, function: str, *args: Any) -> int:
        """One of the pool's ERC-792 integer reads (`appealCost`, `maxRounds`); `currentRuling`'s ruling."""
        assert self.arbitrator is not None, "no arbitration pool in this deployment"
        found = getattr(self.arbitrator.functions, function)(*args).call()
        return int(found[0] if isinstance(found, list | tuple) else found)

    @needs_chain
    def balance(self, account: str) -> int:
        """The account's token balance (USDC base units)."""
        return int(self.token.functions.balanceOf(Web3.to_checksum_address(account)).call())

    @needs_chain
    def allowance(self, owner: str, spender: str) -> int:
        return int(self.token.functions.allowance(owner, spender).call())

    def approve(self, spender: str, amount: int) -> Call:
        """The token's approve call (the dispute's fee and bond are pulled from the worker)."""
        data = self.token.encode_abi("approve", args=[Web3.to_checksum_address(spender), amount])
        return Call(self.token.address, bytes.fromhex(data[2:]), "Token.approve")

    @needs_chain
    def send(self, account: LocalAccount, call: Call) -> str:
        """Dry-runs, signs and sends `call` from the worker's own key; waits for it; its hash."""
        tx: dict[str, Any] = {"from": account.address, "to": call.to, "data": "0x" + call.data.hex()}
        try:
            gas = self.w3.eth.estimate_gas(tx)  # type: ignore[arg-type]
        except (ContractLogicError, ContractCustomError, Web3RPCError) as error:
            raise Refused(detail="refusal.would_fail", function=call.function, reason=str(error)) from error
        native = self.w3.eth.get_balance(account.address)
        fee = int(self.w3.eth.gas_price * 2)
        if native < gas * fee:
            raise Refused(
                detail="refusal.needs_gas", function=call.function, needed=f"{gas * fee / 1e18:.5f}",
                held=f"{native / 1e18:.5f}", address=account.address,
            )  # fmt: skip
        tx |= {"gas": int(gas * GAS_MARGIN), "gasPrice": fee, "chainId": self.chain_id,
               "nonce": self.w3.eth.get_transaction_count(account.address, "pending")}  # fmt: skip
        signed = account.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        if receipt["status"] != 1:
            raise Refused(detail="refusal.mined_failed", function=call.function, tx=tx_hash.hex())
        return "0x" + bytes(tx_hash).hex().removeprefix("0x")
