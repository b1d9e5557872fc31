"""Fixtures of the process tests: the system deployed once per session on a standalone anvil, saved as
anvil state, and a fresh anvil per test that starts from it (a deploy costs seconds; a load does not)."""

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.accounts import write_keystores
from devtools.chain import Anvil
from devtools.protocol import Protocol, deploy
from protocol_core.deployment import Addresses


@dataclass(frozen=True)
class DeployedState:
    """anvil's saved state with the system deployed and set up, and where the addresses are recorded."""

    state: Path
    deployments: Path
    addresses: Addresses


@pytest.fixture(scope="session")
def deployed_state(tmp_path_factory) -> DeployedState:
    """Deploys with the project's deploy script and sets up operators (quorum 2), workers, the agent."""
    folder = tmp_path_factory.mktemp("deployed")
    anvil = Anvil(folder)
    anvil.start()
    try:
        deployments = folder / "deployments.json"
        addresses = deploy(anvil.url, deployments)
        Protocol.connect(anvil.url, addresses, folder / "evidence").set_up(quorum=2)
    finally:
        anvil.stop()  # SIGINT: anvil writes its state
    return DeployedState(folder / "anvil-state.json", deployments, addresses)


@pytest.fixture
def deployed_anvil(tmp_path, deployed_state):
    """A fresh anvil in `tmp_path` that starts from the deployed state; killed after the test."""
    shutil.copy(deployed_state.state, tmp_path / "anvil-state.json")
    shutil.copy(deployed_state.deployments, tmp_path / "deployments.json")
    anvil = Anvil(tmp_path)
    anvil.start()
    yield anvil
    anvil.kill()


@pytest.fixture(scope="module")
def anvil(tmp_path_factory):
    """One bare standalone anvil per module, for tests that deploy once or send nothing."""
    started = Anvil(tmp_path_factory.mktemp("anvil"))
    started.start()
    yield started
    started.kill()


@dataclass(frozen=True)
class RelayChain:
    """A module's own anvil from the deployed state (quorum 2 of 3), the operators' keystores, a driver."""

    folder: Path
    rpc: str
    protocol: Protocol
    aliases: list[str]  # op<index>, the operators' keystores under folder/ape

    @property
    def deployments(self) -> Path:
        return self.folder / "deployments.json"


@pytest.fixture(scope="module")
def relay_chain(tmp_path_factory, deployed_state):
    """One anvil per module of relayed-flow process tests; their nodes are the module's own."""
    folder = tmp_path_factory.mktemp("relay")
    shutil.copy(deployed_state.state, folder / "anvil-state.json")
    shutil.copy(deployed_state.deployments, folder / "deployments.json")
    anvil = Anvil(folder)
    anvil.start()
    protocol = Protocol.connect(anvil.url, deployed_state.addresses, folder / "evidence")
    yield RelayChain(folder, anvil.url, protocol, write_keystores(folder / "ape"))
    anvil.kill()
