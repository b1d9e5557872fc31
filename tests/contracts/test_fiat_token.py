"""TestFiatToken, the USDC double of the benches and the demo: Circle's behaviour behind a proxy, and
the escrow's posting and payouts settled in it.

The module deploys its own system on the proxied token (`fiat_system`). The conftest's names
(`usdc`, `system`) stay the session's TestUSDC deployment, which the conftest's `_isolate` sets up
in this module too: a session fixture first set up in a later module would be lost to ape's
isolation of this one.
"""

import pytest
from eth_utils import keccak, to_checksum_address

from devtools.reverts import reverts
from devtools.system import (
    MAX_UINT,
    REWARD,
    USDC,
    add_operators,
    deploy_fiat_usdc,
    deploy_local,
    fund,
    register_worker,
)
from protocol_core.deployment import check_usdc
from protocol_core.eip712 import sign_permit as sign_permit_offchain
from protocol_core.enums import JobStatus
from protocol_core.errors import DeploymentError

IMPLEMENTATION_SLOT = int("360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc", 16)
AMOUNT = 5 * USDC


@pytest.fixture(scope="module")
def fiat(project, deployer):
    """A TestFiatToken behind its ERC-1967 proxy, owned by the deployer."""
    return deploy_fiat_usdc(project, deployer)


@pytest.fixture(scope="module")
def fiat_system(project, deployer, fiat, treasury, operators, agent, worker):
    """The protocol settled in `fiat`: operators staked, the agent funded, the worker registered."""
    sys = deploy_local(project, deployer, treasury=treasury, token=fiat)
    add_operators(sys, deployer, operators)
    fund(fiat, agent, 10_000 * USDC, sys.escrow)
    register_worker(sys, worker, 0b11, 0b1, 2)
    return sys


@pytest.fixture(autouse=True)
def escrow(fiat_system):
    """The fiat system's escrow (so `make_terms` quotes it), in every test: ape redeploys the
    module's fixtures when a session fixture's name (the conftest's `escrow`) first shows up in a
    later test. The module's people come from `accounts` for the same reason."""
    return fiat_system.escrow


@pytest.fixture
def sign_permit(chain, fiat):
    """A permit under Circle's EIP-712 domain: name "USD Coin", version "2"; returns (v, r, s)."""

    def sign(owner, spender, value, deadline, version="2"):
        permit = sign_permit_offchain(
            owner.private_key,
            token_name="USD Coin",
            version=version,
            chain_id=chain.chain_id,
            token=str(fiat.address),
            owner=str(owner.address),
            spender=str(spender.address),
            value=value,
            nonce=fiat.nonces(owner),
            deadline=deadline,
        )
        return permit.v, permit.r, permit.s

    return sign


@pytest.fixture
def holder(fiat, accounts):
    """An account holding 100 USDC."""
    fiat.mint(accounts[10], 100 * USDC, sender=accounts[10])
    return accounts[10]


@pytest.fixture
def spender(accounts):
    return accounts[11]


@pytest.fixture
def recipient(accounts):
    return accounts[8]


def submitted(escrow, agent, worker, terms):
    """Posts, accepts and submits evidence for `terms`; returns the evidence hash."""
    escrow.postJob(terms.as_abi(), sender=agent)
    escrow.acceptJob(terms.as_abi(), sender=worker)
    evidence_hash = keccak(b"evidence")
    escrow.submitEvidence(terms.digest(), evidence_hash, "ipfs://bundle", sender=worker)
    return evidence_hash


def approve(oracle, operators, terms, evidence_hash):
    """Two operators approve the evidence; returns the final attestation, which settles the job."""
    oracle.attest(terms.digest(), evidence_hash, True, 0, terms.as_abi(), sender=operators[0])
    return oracle.attest(terms.digest(), evidence_hash, True, 0, terms.as_abi(), sender=operators[1])


def test_token_is_an_erc1967_proxy_over_an_uninitializable_implementation(project, chain, fiat, deployer):
    word = chain.provider.get_storage(fiat.address, IMPLEMENTATION_SLOT)
    implementation = project.TestFiatToken.at(to_checksum_address(bytes(word)[-20:]))

    assert chain.provider.get_code(implementation.address)
    assert implementation.address != fiat.address
    assert fiat.owner() == deployer
    assert implementation.owner() == "0x0000000000000000000000000000000000000000"
    with reverts(implementation.InvalidInitialization):
        implementation.initialize(deployer, sender=deployer)
    with reverts(fiat.InvalidInitialization):
        fiat.initialize(deployer, sender=deployer)


def test_token_reports_native_usdc_metadata(fiat):
    check_usdc(fiat, "polygon:local")  # what the deploy script checks on a live network

    assert (fiat.name(), fiat.symbol(), fiat.decimals(), fiat.version()) == ("USD Coin", "USDC", 6, "2")
    assert fiat.eip712Domain()[1:3] == ("USD Coin", "2")


def test_deploy_refuses_the_double_on_a_live_network(fiat):
    with pytest.raises(DeploymentError, match="must use native USDC"):
        check_usdc(fiat, "polygon:amoy")


@pytest.mark.parametrize("listed", ["sender", "recipient"])
def test_transfer_reverts_when_a_party_is_blacklisted(fiat, deployer, holder, recipient, listed):
    account = holder if listed == "sender" else recipient
    fiat.setBlacklisted(account, True, sender=deployer)

    with reverts(fiat.Blacklisted, account=account):
        fiat.transfer(recipient, AMOUNT, sender=holder)


@pytest.mark.parametrize("listed", ["spender", "from", "to"])
def test_transfer_from_reverts_when_a_party_is_blacklisted(
    fiat, deployer, holder, spender, recipient, listed
):
    fiat.approve(spender, MAX_UINT, sender=holder)
    account = {"spender": spender, "from": holder, "to": recipient}[listed]
    fiat.setBlacklisted(account, True, sender=deployer)

    with reverts(fiat.Blacklisted, account=account):
        fiat.transferFrom(holder, recipient, AMOUNT, sender=spender)


@pytest.mark.parametrize("listed", ["owner", "spender"])
def test_approve_reverts_when_a_party_is_blacklisted(fiat, deployer, holder, spender, listed):
    account = holder if listed == "owner" else spender
    fiat.setBlacklisted(account, True, sender=deployer)

    with reverts(fiat.Blacklisted, account=account):
        fiat.approve(spender, AMOUNT, sender=holder)


def test_transfer_goes_through_again_when_taken_off_the_blacklist(fiat, deployer, holder, recipient):
    fiat.setBlacklisted(holder, True, sender=deployer)
    tx = fiat.setBlacklisted(holder, False, sender=deployer)

    fiat.transfer(recipient, AMOUNT, sender=holder)

    assert tx.events == [fiat.BlacklistChanged(holder, False)]
    assert not fiat.isBlacklisted(holder)
    assert fiat.balanceOf(recipient) == AMOUNT


def test_set_blacklisted_reverts_when_caller_not_owner(fiat, holder):
    with reverts(fiat.NotOwner, caller=holder):
        fiat.setBlacklisted(holder, True, sender=holder)


def test_transfer_from_lowers_an_unlimited_allowance(fiat, holder, spender, recipient):
    fiat.approve(spender, MAX_UINT, sender=holder)

    tx = fiat.transferFrom(holder, recipient, AMOUNT, sender=spender)

    assert tx.events == [fiat.Transfer(holder, recipient, AMOUNT)]
    assert fiat.allowance(holder, spender) == MAX_UINT - AMOUNT
    assert fiat.balanceOf(recipient) == AMOUNT


def test_transfer_from_reverts_when_allowance_short(fiat, holder, spender):
    fiat.approve(spender, AMOUNT - 1, sender=holder)

    with reverts(fiat.ERC20InsufficientAllowance, spender=spender, allowance=AMOUNT - 1, needed=AMOUNT):
        fiat.transferFrom(holder, spender, AMOUNT, sender=spender)


def test_pause_stops_transfers_approvals_and_mints_until_unpaused(fiat, deployer, holder, spender):
    fiat.approve(spender, MAX_UINT, sender=holder)
    paused = fiat.pause(sender=deployer)

    assert paused.events == [fiat.PauseChanged(True)]
    with reverts(fiat.TokenPaused):
        fiat.transfer(spender, AMOUNT, sender=holder)
    with reverts(fiat.TokenPaused):
        fiat.transferFrom(holder, spender, AMOUNT, sender=spender)
    with reverts(fiat.TokenPaused):
        fiat.approve(spender, AMOUNT, sender=holder)
    with reverts(fiat.TokenPaused):
        fiat.mint(holder, AMOUNT, sender=holder)

    fiat.unpause(sender=deployer)
    fiat.transfer(spender, AMOUNT, sender=holder)
    assert fiat.balanceOf(spender) == AMOUNT


def test_pause_reverts_when_caller_not_owner(fiat, holder):
    with reverts(fiat.NotOwner, caller=holder):
        fiat.pause(sender=holder)


def test_post_with_version_2_permit_posts_in_one_transaction(escrow, fiat, agent, make_terms, sign_permit):
    fiat.approve(escrow, 0, sender=agent)
    terms = make_terms()
    v, r, s = sign_permit(agent, escrow, terms.total, terms.accept_by)
    before = fiat.balanceOf(agent)

    tx = escrow.postJobWithPermit(terms.as_abi(), terms.total, terms.accept_by, v, r, s, sender=agent)

    assert tx.events.filter(fiat.Approval) == [fiat.Approval(agent, escrow, terms.total)]
    assert fiat.balanceOf(agent) == before - terms.total
    assert fiat.allowance(agent, escrow) == 0
    assert fiat.nonces(agent) == 1
    assert escrow.jobState(terms.digest())[0] == JobStatus.OPEN


def test_permit_reverts_when_signed_under_version_1(fiat, escrow, agent, spender, sign_permit):
    deadline = 2**40
    v, r, s = sign_permit(agent, escrow, AMOUNT, deadline, version="1")

    with reverts(fiat.InvalidPermitSignature, holder=agent):
        fiat.permit(agent, escrow, AMOUNT, deadline, v, r, s, sender=spender)


def test_permit_reverts_when_expired(chain, fiat, escrow, agent, spender, sign_permit):
    deadline = chain.pending_timestamp - 1
    v, r, s = sign_permit(agent, escrow, AMOUNT, deadline)

    with reverts(fiat.PermitExpired, deadline=deadline):
        fiat.permit(agent, escrow, AMOUNT, deadline, v, r, s, sender=spender)


def test_payout_credits_blacklisted_worker_who_withdraws_elsewhere(
    fiat_system, escrow, fiat, deployer, agent, worker, operators, recipient, make_terms
):
    terms = make_terms()
    evidence_hash = submitted(escrow, agent, worker, terms)
    fiat.setBlacklisted(worker, True, sender=deployer)

    final = approve(fiat_system.oracle, operators, terms, evidence_hash)

    assert final.events.filter(escrow.Credited, account=worker.address) == [escrow.Credited(worker, REWARD)]
    assert not final.decode_logs(fiat.Transfer)
    assert escrow.jobState(terms.digest())[0] == JobStatus.PAID

    before = fiat.balanceOf(recipient)
    tx = escrow.withdraw(recipient, sender=worker)

    assert tx.events == [
        escrow.Withdrawn(worker, recipient, REWARD),
        fiat.Transfer(escrow, recipient, REWARD),
    ]
    assert fiat.balanceOf(recipient) == before + REWARD
    assert escrow.creditOf(worker) == 0


def test_payout_credits_worker_while_token_paused(
    fiat_system, escrow, fiat, deployer, agent, worker, operators, make_terms
):
    terms = make_terms()
    evidence_hash = submitted(escrow, agent, worker, terms)
    fiat.pause(sender=deployer)

    final = approve(fiat_system.oracle, operators, terms, evidence_hash)

    assert escrow.Credited(worker, REWARD) in final.events
    assert escrow.jobState(terms.digest())[0] == JobStatus.PAID
    fiat.unpause(sender=deployer)
    before = fiat.balanceOf(worker)
    escrow.withdraw(worker, sender=worker)
    assert fiat.balanceOf(worker) == before + REWARD
