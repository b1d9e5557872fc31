"""The operation's processes: the team's content store, the desk, the indexer, three relayed oracle
nodes and, when a dispute needs them, the arbitrators' daemons; each a real process, all stopped at the
end whatever happened."""

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from nacl.public import PrivateKey
from web3 import Web3

from devtools.arbitrators import Arbitrator
from devtools.daemons import Daemon
from devtools.desk import STORE_KEY, ContentStore, DeskDaemon
from devtools.indexer import IndexerProcess
from devtools.oracle_nodes import OracleNodes
from protocol_core.abi import abi
from protocol_core.deployment import load_deployments

ARBITRATOR_POLL_S = 0.5  # five daemons idle until the dispute: they need not poll 20 times a second


@dataclass(frozen=True)
class Stage:
    """What the deployment left for the operation: the chain, the contracts and everybody's keys."""

    rpc: str
    deployments: Path
    workdir: Path
    agent_key: bytes
    operator_keys: dict[str, bytes]  # node alias -> key
    arbitrator_keys: dict[str, tuple[bytes, PrivateKey]]  # alias -> (key, registered X25519 key)
    helpdesk_secret: str
    callback_secret: str
    desk_settings: dict[str, Any] = field(default_factory=dict)
    publish_endpoints: bool = True  # each operator publishes its node's intake on chain; peers find it


@dataclass
class World:
    """The running processes."""

    store: ContentStore
    desk: DeskDaemon
    indexer: IndexerProcess
    nodes: OracleNodes
    stack: ExitStack
    arbitrators: dict[str, Arbitrator] = field(default_factory=dict)

    def start_arbitrators(self, stage: Stage, keeper: str) -> dict[str, Arbitrator]:
        """Every staked arbitrator's `arbitrator watch`, started without waiting; `keeper` also draws,
        tallies and executes. `arbitrators_ready` waits for them."""
        folder = stage.workdir / "arbitrators"
        folder.mkdir(exist_ok=True)
        for alias, (key, x25519) in stage.arbitrator_keys.items():
            (folder / f"{alias}.x25519").write_text(bytes(x25519).hex())
            self.arbitrators[alias] = _stopped_later(self.stack, Arbitrator(
                folder, stage.rpc, stage.deployments, alias, key, keeper=alias == keeper,
                votes_file=folder / f"{alias}-votes.jsonl", x25519_key_file=folder / f"{alias}.x25519",
                poll_interval=ARBITRATOR_POLL_S,
            ))  # fmt: skip
        for arbitrator in self.arbitrators.values():
            arbitrator.start()
        return self.arbitrators

    def arbitrators_ready(self) -> dict[str, Arbitrator]:
        """Waits until every arbitrator daemon serves (alive: /readyz may flag a transaction its tracker
        misjudged as foreign, and the daemon keeps working; its log says so)."""
        for arbitrator in self.arbitrators.values():
            arbitrator.wait_ready(timeout=180, path="/healthz")
        return self.arbitrators

    def daemons(self) -> list[Daemon]:
        return [self.store, self.desk, self.indexer, *self.nodes.nodes, *self.arbitrators.values()]


@contextmanager
def running(stage: Stage, offer_hooks: dict[str, str]) -> Iterator[World]:
    """Starts the store, indexer, desk and nodes together and waits for all; stops all on the way out."""
    with ExitStack() as stack:
        for folder in ("indexer", "nodes"):
            (stage.workdir / folder).mkdir(exist_ok=True)
        store = _stopped_later(stack, ContentStore(stage.workdir))
        indexer = _stopped_later(
            stack, IndexerProcess(stage.workdir / "indexer", stage.rpc, stage.deployments)
        )
        desk = _stopped_later(stack, DeskDaemon(
            stage.workdir, stage.rpc, stage.deployments, stage.agent_key,
            content_url=f"http://127.0.0.1:{store.port}", content_api_key=STORE_KEY,
            callback_secret=stage.callback_secret, indexer_database_url=f"sqlite:///{indexer.database}",
            offer_hooks=json.dumps(offer_hooks), **stage.desk_settings,
        ))  # fmt: skip
        nodes = OracleNodes(
            stage.workdir / "nodes", stage.rpc, stage.deployments, stage.workdir / "evidence",
            stage.operator_keys, relayed=True, allow_private_hosts=True,
        )  # fmt: skip
        if stage.publish_endpoints:
            _publish(stage, nodes)
        stack.enter_context(nodes)
        store.start(wait=None)
        indexer.start()
        desk.start(wait=None)
        store.wait_ready(path="/healthz")
        indexer.wait_ready()
        desk.wait_ready()
        nodes.wait_ready()
        world = World(store, desk, indexer, nodes, stack)
        if stage.arbitrator_keys:  # they follow the chain from the start; a dispute finds them ready
            world.start_arbitrators(stage, keeper=sorted(stage.arbitrator_keys)[0])
        yield world


def _publish(stage: Stage, nodes: OracleNodes) -> None:
    """Each operator's `setEndpoint` for its node's intake (as `ape run ops operator endpoint` does)."""
    w3 = Web3(Web3.HTTPProvider(stage.rpc))
    address = load_deployments(stage.deployments)["polygon:local"].oracle
    oracle = w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi("VerificationOracle"))
    for node, key in zip(nodes.nodes, stage.operator_keys.values(), strict=True):
        operator = Account.from_key(key)
        tx = oracle.functions.setEndpoint(node.intake_url).build_transaction(
            {"from": operator.address, "nonce": w3.eth.get_transaction_count(operator.address, "pending")}
        )
        sent = w3.eth.send_raw_transaction(operator.sign_transaction(tx).raw_transaction)
        if w3.eth.wait_for_transaction_receipt(sent, timeout=60)["status"] != 1:
            raise RuntimeError(f"{node.alias}: setEndpoint reverted")


def _stopped_later(stack: ExitStack, daemon: Any) -> Any:
    """`daemon`, stopped (SIGTERM, then SIGKILL) when the stack closes."""
    stack.callback(daemon.stop)
    return daemon
