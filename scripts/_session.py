"""What an ops command works with: the chain, the deployment recorded for it, the signer, one way to send.

Order of every command: its own arguments are checked first (pure), then the RPC is asked which
chain it is, the deployment recorded for that chain must have code there, the signer is unlocked,
and only then is anything sent. Each transaction is dry-run first, so a refusal costs no gas and
comes back as one line with the contract's reason.
"""

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from ape.api import AccountAPI, ReceiptAPI
from ape.exceptions import ApeException, ContractLogicError, SignatureError
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError as Web3ContractLogicError

from protocol_core.abi import abi
from protocol_core.bindings import Call, Escrow, Oracle, Pool, Registry
from protocol_core.deployment import DEFAULT_DEPLOYMENTS_FILE, Addresses, load_deployments
from protocol_core.errors import ProtocolError
from protocol_core.validation import InvalidInput

from ._reverts import decode_revert, explain
from ._rpc import Target, connected, resolve, rpc_options
from ._signer import load_signer, no_prompt_answer, signer_options

DEPLOYMENTS_ENV = "ESCALATION_DEPLOYMENTS_FILE"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ChainOptions:
    """The options every command shares, as given; nothing is checked or connected yet."""

    rpc_url: str | None
    network: str | None
    deployments_file: Path
    account: str | None = None
    yes: bool = False


def chain_options(signs: bool) -> Callable[[F], F]:
    """Adds the shared options, hands them over as `chain`, and turns every failure into one line."""

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def run(*args: Any, rpc_url: Any, network: Any, deployments_file: Any, **kwargs: Any) -> Any:
            signer = {"account": kwargs.pop("account"), "yes": kwargs.pop("yes")} if signs else {}
            chain = ChainOptions(rpc_url, network, deployments_file, **signer)
            try:
                return command(*args, chain=chain, **kwargs)
            except ProtocolError as err:
                raise click.ClickException(str(err)) from None

        wrapped = signer_options(run) if signs else run
        wrapped = click.option(
            "--deployments-file",
            type=click.Path(path_type=Path, dir_okay=False),
            default=DEFAULT_DEPLOYMENTS_FILE,
            envvar=DEPLOYMENTS_ENV,
            show_default=True,
            help=f"Where `deploy system` recorded the addresses (or ${DEPLOYMENTS_ENV}).",
        )(wrapped)
        return rpc_options(wrapped)  # type: ignore[return-value]

    return decorate


@dataclass
class Session:
    """A connected deployment and, for commands that send, the unlocked signer."""

    target: Target
    addresses: Addresses
    w3: Web3
    account: AccountAPI | None = None

    @property
    def escrow(self) -> Escrow:
        return Escrow(self.w3, self.addresses.escrow)

    @property
    def oracle(self) -> Oracle:
        return Oracle(self.w3, self.addresses.oracle)

    @property
    def registry(self) -> Registry:
        return Registry(self.w3, self.addresses.registry)

    @property
    def pool(self) -> Pool:
        return Pool(self.w3, self.addresses.arbitrator)

    @property
    def sender(self) -> str:
        assert self.account is not None, "a command that sends opens its session with signs=True"
        return str(self.account.address)

    def contract(self, name: str) -> Any:
        """A web3 contract of the deployment by ABI name, for views and functions bindings lack."""
        address = {
            "JobEscrow": self.addresses.escrow,
            "VerificationOracle": self.addresses.oracle,
            "WorkerRegistry": self.addresses.registry,
            "ArbitrationPool": self.addresses.arbitrator,
            "TestUSDC": self.addresses.token,
        }[name]
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi(name))

    def call(self, name: str, function: str, *args: Any) -> Call:
        """An unsigned call of `function` on the deployment's contract `name`."""
        contract = self.contract(name)
        data = contract.encode_abi(function, args=list(args))
        return Call(to=contract.address, data=bytes(HexBytes(data)), function=f"{name}.{function}")

    def dry_run(self, call: Call, what: str) -> None:
        """eth_call as the signer; a refusal becomes one line with the contract's reason."""
        try:
            self.w3.eth.call({"from": self.sender, "to": call.to, "data": HexBytes(call.data)})
        except Web3ContractLogicError as err:
            data = HexBytes(err.data) if isinstance(err.data, str | bytes) else HexBytes(b"")
            raise InvalidInput(
                f"{what}: refused by {call.function}: {explain(decode_revert(data))}"
            ) from None

    def send(self, call: Call, what: str) -> ReceiptAPI:
        """Dry-runs, signs (asking unless --yes), sends and waits for the network's confirmations."""
        assert self.account is not None
        self.dry_run(call, what)
        from ape import networks

        txn = networks.provider.network.ecosystem.create_transaction(
            receiver=call.to, data=call.data, sender=self.sender
        )
        try:
            receipt = self.account.call(txn)
        except click.Abort:
            raise InvalidInput(f"{what}: {no_prompt_answer('signing')}") from None
        except SignatureError:
            raise InvalidInput(f"{what}: not signed at the prompt; nothing was sent") from None
        except ContractLogicError as err:  # the chain changed between the dry run and the block
            raise InvalidInput(f"{what}: reverted in {call.function}: {err}") from None
        except ApeException as err:
            raise InvalidInput(f"{what}: failed: {str(err).splitlines()[0]}") from None
        click.echo(f"{what}: done (tx {receipt.txn_hash}, block {receipt.block_number})")
        return receipt


def recorded(target: Target, deployments_file: Path) -> Addresses:
    """The deployment recorded for the target's network; refused when nothing is recorded."""
    known = load_deployments(deployments_file)
    if target.network not in known:
        raise InvalidInput(
            f"no deployment of {target.network} in {deployments_file}: run "
            f"`ape run deploy system --rpc-url {target.url}` first, or pass the right --deployments-file"
        )
    return known[target.network]


def missing_code(w3: Web3, addresses: Addresses) -> list[str]:
    """Names of the recorded contracts that have no code on the chain behind `w3`."""
    names = ("token", "registry", "oracle", "escrow", "arbitrator", "randomness")
    return [
        name
        for name in names
        if getattr(addresses, name)
        and not w3.eth.get_code(Web3.to_checksum_address(getattr(addresses, name)))
    ]


def no_code_message(target: Target, deployments_file: Path, missing: list[str]) -> str:
    """The line for a recorded deployment that is not on the chain the RPC serves."""
    return (
        f"the contracts recorded for {target.network} in {deployments_file} ({', '.join(missing)}) have "
        f"no code on the chain at {target.url}: it is not the chain they were deployed on (a restarted "
        f"anvil starts empty); deploy again with `ape run deploy system --rpc-url {target.url}`"
    )


@contextmanager
def open_session(chain: ChainOptions, signs: bool, pays_gas: bool = True) -> Iterator[Session]:
    """Resolves the RPC, checks the recorded deployment has code there, unlocks the signer, connects ape."""
    target = resolve(chain.rpc_url, chain.network)
    addresses = recorded(target, chain.deployments_file)
    w3 = target.web3()
    if missing := missing_code(w3, addresses):
        raise InvalidInput(no_code_message(target, chain.deployments_file, missing))
    if not signs:
        yield Session(target, addresses, w3)
        return
    account = load_signer(chain.account, chain.yes, target)
    if pays_gas and w3.eth.get_balance(Web3.to_checksum_address(str(account.address))) == 0:
        raise InvalidInput(
            f"{account.address} has no native token to pay gas on {target.network}: fund it first"
        )
    click.echo(f"signing as {account.address}")
    with connected(target):
        yield Session(target, addresses, w3, account)
