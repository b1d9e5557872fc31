"""The arbitration pool driven through web3 with anvil's unlocked test accounts: stakes, disputes opened
straight at the pool (as any arbitrable may), draws, tallies, rulings, and its logs; for the process
tests and benches that run `arbitrator` daemons against a standalone chain."""

from typing import Any

from web3 import Web3
from web3.logs import DISCARD

from protocol_core.abi import abi

from .chain import rpc_call
from .protocol import Protocol


class PoolDriver:
    """One deployment's pool, its token and the chain's clock, over a Protocol's web3."""

    def __init__(self, protocol: Protocol) -> None:
        self.protocol, self.w3 = protocol, protocol.w3
        address = Web3.to_checksum_address(protocol.addresses.arbitrator)
        self.pool = self.w3.eth.contract(address=address, abi=abi("ArbitrationPool"))
        protocol.contracts.setdefault("ArbitrationPool", self.pool)

    def stake(self, index: int, amount: int) -> None:
        """Test account `index` is minted `amount` of the token and stakes it."""
        p = self.protocol
        p.send("TestUSDC", "mint", p.account(index), amount, sender=index)
        p.send("TestUSDC", "approve", self.pool.address, amount, sender=index)
        p.send("ArbitrationPool", "stake", amount, sender=index)

    def open_disputes(self, count: int, opener: int) -> list[int]:
        """`count` two-choice disputes opened by test account `opener` (funded and approved here)."""
        p, fee = self.protocol, self.pool.functions.arbitrationCost(b"", self.protocol.addresses.token).call()
        p.send("TestUSDC", "mint", p.account(opener), fee * count, sender=opener)
        p.send("TestUSDC", "approve", self.pool.address, fee * count, sender=opener)
        opened = []
        for _ in range(count):
            token = p.addresses.token
            receipt = p.send("ArbitrationPool", "createDispute", 2, b"", token, fee, sender=opener)
            (created,) = self.pool.events.DisputeCreation().process_receipt(receipt, errors=DISCARD)
            opened.append(created["args"]["disputeId"])
        return opened

    def each(self, function: str, dispute_ids: list[int], sender: int, gas: int = 3_000_000) -> None:
        """Calls `function(disputeId)` (draw, tally, executeRuling...) for each dispute, in order."""
        for dispute_id in dispute_ids:
            self.protocol.send("ArbitrationPool", function, dispute_id, sender=sender, gas=gas)

    def round(self, dispute_id: int, index: int = 0) -> Any:
        """`roundOf`: fee, panelSize, votes, drawBy, commitEnd, revealEnd, appealEnd, panel."""
        return self.pool.functions.roundOf(dispute_id, index).call()

    def events(self, name: str, dispute_id: int | None = None, from_block: int = 0) -> list[dict[str, Any]]:
        """The pool's `name` logs (of one dispute), oldest first, with their block and transaction."""
        filters = {"disputeId": dispute_id} if dispute_id is not None else None
        found = getattr(self.pool.events, name).get_logs(from_block=from_block, argument_filters=filters)
        return [
            dict(e["args"]) | {"block": e["blockNumber"], "tx": "0x" + bytes(e["transactionHash"]).hex()}
            for e in found
        ]

    def mine(self, timestamp: int | None = None) -> None:
        """Mines one block, at `timestamp` when given."""
        url = self.w3.provider.endpoint_uri  # type: ignore[attr-defined]
        if timestamp is not None:
            rpc_call(url, "evm_setNextBlockTimestamp", hex(timestamp))
        rpc_call(url, "evm_mine")
