"""The worker's side of the protocol in one object, shared by the web app and the CLI: settings,
keystore, job index, chain, desk. `build` is the only place that picks the concrete classes."""

from dataclasses import dataclass

from .chain import WorkerChain, load_addresses
from .index import JobIndex
from .remote import DeskClient
from .settings import WorkerSettings
from .wallet import Keystore


@dataclass
class Core:
    """What every action needs."""

    settings: WorkerSettings
    keystore: Keystore
    index: JobIndex
    chain: WorkerChain
    desk: DeskClient

    def deadline(self) -> int:
        """The deadline a relayed signature made now carries (the chain's clock)."""
        return self.chain.now() + self.settings.signature_ttl_s


def build(settings: WorkerSettings) -> Core:
    """The core for `settings`; reads nothing from the network yet."""
    addresses = load_addresses(settings.deployments_file, settings.network)
    return Core(
        settings=settings,
        keystore=Keystore(settings.home, settings.kdf_n),
        index=JobIndex(settings.home / "index.db"),
        chain=WorkerChain(settings.rpc_url, addresses),
        desk=DeskClient(settings.desk_url),
    )
