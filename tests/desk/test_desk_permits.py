"""How the desk funds its posts: a permit for more than one post, plain posts while what it left lasts,
a permit again when it runs out; a permit the token refuses, or one that expires before it is mined,
is named and posts nothing."""

import time

import pytest
from sqlalchemy import select

from devtools.system import USDC
from escalation.desk.desk import PERMIT_TTL
from escalation.desk.errors import WouldRevert
from escalation.desk.requests import DeskStatus
from escalation.desk.tables import allowance
from tests.desk.conftest import POLICY, follow, request


def left(service) -> int | None:
    with service.desk.engine.connect() as db:
        return db.execute(select(allowance.c.left)).scalar()


def total_of(system, reward: int) -> int:
    oracle_fee, protocol_fee = system.escrow.quote(reward)
    return reward + oracle_fee + protocol_fee


def test_one_permit_covers_the_posts_after_it_until_its_allowance_runs_out(make_desk, system, desk_agent):
    total = total_of(system, 20 * USDC)
    service = make_desk(permit_allowance=2 * total + total // 2)
    token, agent, escrow = system.token, desk_agent.address, system.escrow.address

    first = service.desk.escalate(request())  # no allowance yet: a permit for two and a half posts
    follow(service, first.desk_id, "open")
    assert (token.nonces(agent), token.allowance(agent, escrow)) == (1, total + total // 2)
    assert left(service) == total + total // 2

    second = service.desk.escalate(request())  # plain: the permit's allowance covers it
    follow(service, second.desk_id, "open")
    assert (token.nonces(agent), token.allowance(agent, escrow)) == (1, total // 2)

    third = service.desk.escalate(request())  # half a post left: a permit again
    follow(service, third.desk_id, "open")
    assert (token.nonces(agent), token.allowance(agent, escrow)) == (2, total + total // 2)
    assert token.balanceOf(agent) == 1_000 * USDC - 3 * total


def test_an_unlimited_standing_allowance_posts_plainly(make_desk, system, desk_agent, chain):
    w3 = chain.provider.web3  # the agent approved "everything" once, itself
    call = {"to": system.token.address, "data": system.token.approve.encode_input(system.escrow, 2**256 - 1)}
    nonce = w3.eth.get_transaction_count(desk_agent.address)
    tx = {**call, "from": desk_agent.address, "chainId": chain.chain_id, "gas": 100_000, "nonce": nonce,
          "gasPrice": w3.eth.gas_price}  # fmt: skip
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(desk_agent.sign_transaction(tx).raw_transaction)
    )
    service = make_desk()
    view = service.desk.escalate(request())  # once crashed: 2**256 - 1 did not fit the column
    follow(service, view.desk_id, "open")
    assert system.token.nonces(desk_agent.address) == 0  # no permit was needed
    assert left(service) == 2**63 - 1  # counted as "at least this much", never more than is there


def test_without_a_cap_the_permit_covers_the_rest_of_the_days_budget(make_desk, system, desk_agent):
    service = make_desk()
    view = service.desk.escalate(request())
    follow(service, view.desk_id, "open")
    assert (
        system.token.allowance(desk_agent.address, system.escrow.address) == POLICY.daily_budget - view.total
    )
    assert service.desk.budget().committed + left(service) == POLICY.daily_budget  # never more than that


def test_a_permit_the_token_refuses_is_named_and_posts_nothing(make_desk, system, desk_agent):
    service = make_desk(permit_version="9")  # not the token's domain: it refuses the signature
    pattern = (
        r"posting esc-\w+ with a permit for 500 USDC would revert \(ERC20InsufficientAllowance\); "
        r"nothing was sent: the token refused the desk's permit; "
        r"check permit_version \('9'; Circle's USDC on Polygon: '2'\)"
    )
    with pytest.raises(WouldRevert, match=pattern):
        service.desk.escalate(request())
    assert service.desk.list() == [] and service.desk.budget().committed == 0
    assert system.token.nonces(desk_agent.address) == 0 and left(service) is None


def test_a_permit_expired_before_mining_fails_the_post_and_the_next_post_carries_a_new_one(
    make_desk, system, desk_agent, chain
):
    service = make_desk()
    token, agent = system.token, desk_agent.address
    provider = chain.provider
    provider.make_request("evm_setAutomine", [False])
    try:
        stuck = service.desk.escalate(request(accept_within_s=4 * 3_600))  # outlives the permit's hour
        assert left(service) is not None  # counted on while in flight
        # mined past the permit's deadline, which the desk counts from the later of both clocks
        provider.make_request("evm_mine", [max(chain.pending_timestamp, int(time.time())) + PERMIT_TTL + 60])
    finally:
        provider.make_request("evm_setAutomine", [True])
    follow(service, stuck.desk_id, DeskStatus.FAILED)
    assert token.nonces(agent) == 0 and token.allowance(agent, system.escrow.address) == 0
    assert left(service) is None  # forgotten with the reverted post

    view = service.desk.escalate(request())  # the same nonce again, in a new permit
    follow(service, view.desk_id, "open")
    assert token.nonces(agent) == 1
    assert token.balanceOf(agent) == 1_000 * USDC - view.total  # the failed post took nothing
