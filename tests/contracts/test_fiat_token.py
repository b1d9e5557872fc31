"""TestFiatToken, the USDC double of the benches and the demo: Circle's behaviour behind a proxy, and
the escrow's posting and payouts settled in it.

The fixtures that name the token or the system are overridden here, so the conftest's helpers
(`make_terms`, `flow`) drive a system whose token is the proxied TestFiatToken.
"""

import pytest
from eth_utils import to_checksum_address

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
def usdc(project, deployer):
    return deploy_fiat_usdc(project, deployer)


@pytest.fixture(scope="module")
def system(project, deployer, usdc, treasury, operators, agent, worker):
    sys = deploy_local(project, deployer, treasury=treasury, token=usdc)
    add_operators(sys, deployer, operators)
    fund(usdc, agent, 10_000 * USDC, sys.escrow)
    register_worker(sys, worker, 0b11, 0b1, 2)
    return sys


@pytest.fixture(autouse=True)
def escrow(system):
    """The fiat system's escrow, in every test: ape redeploys the module's fixtures when a name of a
    session fixture (the conftest's `escrow`) shows up only in a later test. The module's people
    come from `accounts` for the same reason."""
    return system.escrow


@pytest.fixture
def sign_permit(chain, usdc):
    """A permit under Circle's EIP-712 domain: name "USD Coin", version "2"; returns (v, r, s)."""

    def sign(owner, spender, value, deadline, version="2"):
        permit = sign_permit_offchain(
            owner.private_key,
            token_name="USD Coin",
            version=version,
            chain_id=chain.chain_id,
            token=str(usdc.address),
            owner=str(owner.address),
            spender=str(spender.address),
            value=value,
            nonce=usdc.nonces(owner),
            deadline=deadline,
        )
        return permit.v, permit.r, permit.s

    return sign


@pytest.fixture
def holder(usdc, accounts):
    """An account holding 100 USDC."""
    usdc.mint(accounts[10], 100 * USDC, sender=accounts[10])
    return accounts[10]


@pytest.fixture
def spender(accounts):
    return accounts[11]


@pytest.fixture
def recipient(accounts):
    return accounts[8]


def test_token_is_an_erc1967_proxy_over_an_uninitializable_implementation(project, chain, usdc, deployer):
    word = chain.provider.get_storage(usdc.address, IMPLEMENTATION_SLOT)
    implementation = project.TestFiatToken.at(to_checksum_address(bytes(word)[-20:]))

    assert chain.provider.get_code(implementation.address)
    assert implementation.address != usdc.address
    assert usdc.owner() == deployer
    assert implementation.owner() == "0x0000000000000000000000000000000000000000"
    with reverts(implementation.InvalidInitialization):
        implementation.initialize(deployer, sender=deployer)
    with reverts(usdc.InvalidInitialization):
        usdc.initialize(deployer, sender=deployer)


def test_token_reports_native_usdc_metadata(usdc):
    check_usdc(usdc, "polygon:local")  # what the deploy script checks on a live network

    assert (usdc.name(), usdc.symbol(), usdc.decimals(), usdc.version()) == ("USD Coin", "USDC", 6, "2")
    assert usdc.eip712Domain()[1:3] == ("USD Coin", "2")


def test_deploy_refuses_the_double_on_a_live_network(usdc):
    with pytest.raises(DeploymentError, match="must use native USDC"):
        check_usdc(usdc, "polygon:amoy")


@pytest.mark.parametrize("listed", ["sender", "recipient"])
def test_transfer_reverts_when_a_party_is_blacklisted(usdc, deployer, holder, recipient, listed):
    account = holder if listed == "sender" else recipient
    usdc.setBlacklisted(account, True, sender=deployer)

    with reverts(usdc.Blacklisted, account=account):
        usdc.transfer(recipient, AMOUNT, sender=holder)


@pytest.mark.parametrize("listed", ["spender", "from", "to"])
def test_transfer_from_reverts_when_a_party_is_blacklisted(
    usdc, deployer, holder, spender, recipient, listed
):
    usdc.approve(spender, MAX_UINT, sender=holder)
    account = {"spender": spender, "from": holder, "to": recipient}[listed]
    usdc.setBlacklisted(account, True, sender=deployer)

    with reverts(usdc.Blacklisted, account=account):
        usdc.transferFrom(holder, recipient, AMOUNT, sender=spender)


@pytest.mark.parametrize("listed", ["owner", "spender"])
def test_approve_reverts_when_a_party_is_blacklisted(usdc, deployer, holder, spender, listed):
    account = holder if listed == "owner" else spender
    usdc.setBlacklisted(account, True, sender=deployer)

    with reverts(usdc.Blacklisted, account=account):
        usdc.approve(spender, AMOUNT, sender=holder)


def test_transfer_goes_through_again_when_taken_off_the_blacklist(usdc, deployer, holder, recipient):
    usdc.setBlacklisted(holder, True, sender=deployer)
    tx = usdc.setBlacklisted(holder, False, sender=deployer)

    usdc.transfer(recipient, AMOUNT, sender=holder)

    assert tx.events == [usdc.BlacklistChanged(holder, False)]
    assert not usdc.isBlacklisted(holder)
    assert usdc.balanceOf(recipient) == AMOUNT


def test_set_blacklisted_reverts_when_caller_not_owner(usdc, holder):
    with reverts(usdc.NotOwner, caller=holder):
        usdc.setBlacklisted(holder, True, sender=holder)


def test_transfer_from_lowers_an_unlimited_allowance(usdc, holder, spender, recipient):
    usdc.approve(spender, MAX_UINT, sender=holder)

    tx = usdc.transferFrom(holder, recipient, AMOUNT, sender=spender)

    assert tx.events == [usdc.Transfer(holder, recipient, AMOUNT)]
    assert usdc.allowance(holder, spender) == MAX_UINT - AMOUNT
    assert usdc.balanceOf(recipient) == AMOUNT


def test_transfer_from_reverts_when_allowance_short(usdc, holder, spender):
    usdc.approve(spender, AMOUNT - 1, sender=holder)

    with reverts(usdc.ERC20InsufficientAllowance, spender=spender, allowance=AMOUNT - 1, needed=AMOUNT):
        usdc.transferFrom(holder, spender, AMOUNT, sender=spender)


def test_pause_stops_transfers_approvals_and_mints_until_unpaused(usdc, deployer, holder, spender):
    usdc.approve(spender, MAX_UINT, sender=holder)
    paused = usdc.pause(sender=deployer)

    assert paused.events == [usdc.PauseChanged(True)]
    with reverts(usdc.TokenPaused):
        usdc.transfer(spender, AMOUNT, sender=holder)
    with reverts(usdc.TokenPaused):
        usdc.transferFrom(holder, spender, AMOUNT, sender=spender)
    with reverts(usdc.TokenPaused):
        usdc.approve(spender, AMOUNT, sender=holder)
    with reverts(usdc.TokenPaused):
        usdc.mint(holder, AMOUNT, sender=holder)

    usdc.unpause(sender=deployer)
    usdc.transfer(spender, AMOUNT, sender=holder)
    assert usdc.balanceOf(spender) == AMOUNT


def test_pause_reverts_when_caller_not_owner(usdc, holder):
    with reverts(usdc.NotOwner, caller=holder):
        usdc.pause(sender=holder)


def test_post_with_version_2_permit_posts_in_one_transaction(escrow, usdc, agent, make_terms, sign_permit):
    usdc.approve(escrow, 0, sender=agent)
    terms = make_terms()
    v, r, s = sign_permit(agent, escrow, terms.total, terms.accept_by)
    before = usdc.balanceOf(agent)

    tx = escrow.postJobWithPermit(terms.as_abi(), terms.accept_by, v, r, s, sender=agent)

    assert tx.events.filter(usdc.Approval) == [usdc.Approval(agent, escrow, terms.total)]
    assert usdc.balanceOf(agent) == before - terms.total
    assert usdc.allowance(agent, escrow) == 0
    assert usdc.nonces(agent) == 1
    assert escrow.jobState(terms.digest())[0] == JobStatus.OPEN


def test_permit_reverts_when_signed_under_version_1(usdc, escrow, agent, spender, sign_permit):
    deadline = 2**40
    v, r, s = sign_permit(agent, escrow, AMOUNT, deadline, version="1")

    with reverts(usdc.InvalidPermitSignature, holder=agent):
        usdc.permit(agent, escrow, AMOUNT, deadline, v, r, s, sender=spender)


def test_permit_reverts_when_expired(chain, usdc, escrow, agent, spender, sign_permit):
    deadline = chain.pending_timestamp - 1
    v, r, s = sign_permit(agent, escrow, AMOUNT, deadline)

    with reverts(usdc.PermitExpired, deadline=deadline):
        usdc.permit(agent, escrow, AMOUNT, deadline, v, r, s, sender=spender)


def test_payout_credits_blacklisted_worker_who_withdraws_elsewhere(
    escrow, usdc, deployer, worker, recipient, flow, make_terms
):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    usdc.setBlacklisted(worker, True, sender=deployer)

    _, final = flow.attest(job_id, evidence_hash, terms)

    assert final.events.filter(escrow.Credited, account=worker.address) == [escrow.Credited(worker, REWARD)]
    assert not final.decode_logs(usdc.Transfer)
    assert escrow.jobState(job_id)[0] == JobStatus.PAID

    before = usdc.balanceOf(recipient)
    tx = escrow.withdraw(recipient, sender=worker)

    assert tx.events == [
        escrow.Withdrawn(worker, recipient, REWARD),
        usdc.Transfer(escrow, recipient, REWARD),
    ]
    assert usdc.balanceOf(recipient) == before + REWARD
    assert escrow.creditOf(worker) == 0


def test_payout_credits_worker_while_token_paused(escrow, usdc, deployer, worker, flow, make_terms):
    terms = make_terms()
    job_id, evidence_hash = flow.submitted(terms, worker)
    usdc.pause(sender=deployer)

    flow.attest(job_id, evidence_hash, terms)

    assert escrow.creditOf(worker) == REWARD
    assert escrow.jobState(job_id)[0] == JobStatus.PAID
    usdc.unpause(sender=deployer)
    before = usdc.balanceOf(worker)
    escrow.withdraw(worker, sender=worker)
    assert usdc.balanceOf(worker) == before + REWARD
