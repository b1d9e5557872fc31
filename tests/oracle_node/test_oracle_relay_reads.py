"""The relayed flow's job reads on the session's deployment: a caller content with a recent view (the
dispatch, after the intake read the job) gets it without asking the chain; everyone else reads anew."""

from oracle_node.relay_contracts import RelayReads
from protocol_core.enums import JobStatus
from runtime.chain import Chain


def test_a_recent_view_serves_who_accepts_its_age_and_a_fresh_read_sees_the_change(
    chain, system, flow, make_terms, worker
):
    reads = RelayReads(Chain.over_http(chain.provider.uri), system.escrow.address, system.oracle.address)
    terms = make_terms()
    job_id, _ = flow.post(terms)
    key = "0x" + job_id.hex()
    assert [view.status for view in reads.jobs([key, key])] == [JobStatus.OPEN, JobStatus.OPEN]

    flow.accept(job_id, terms, worker)
    assert reads.jobs([key], max_age=60.0)[0].status == JobStatus.OPEN  # read a moment ago: good enough
    fresh = reads.jobs([key])[0]
    assert (fresh.status, fresh.worker) == (JobStatus.ACCEPTED, str(worker.address))
    assert reads.jobs([key], max_age=60.0)[0].status == JobStatus.ACCEPTED  # the fresh read is the recent one


def test_a_dry_run_with_a_gas_bound_passes_with_it_is_estimated_when_short_and_names_a_custom_error(
    chain, system, usdc, agent, other_worker
):
    reads = RelayReads(Chain.over_http(chain.provider.uri), system.escrow.address, system.oracle.address)
    token, escrow = str(usdc.address), str(system.escrow.address)
    transfer = bytes(usdc.transfer.encode_input(str(other_worker.address), 1))
    nothing_to_withdraw = bytes(system.escrow.withdraw.encode_input(str(other_worker.address)))
    calls = [(token, transfer), (token, transfer), (escrow, nothing_to_withdraw)]
    estimated = reads.dry_runs(str(agent.address), [(token, transfer)])[0]
    assert isinstance(estimated, int) and 21_000 < estimated < 200_000

    bounded = reads.dry_runs(str(agent.address), calls, [200_000, 22_000, 200_000])
    # enough: the bound itself, with one execution; too little: run out of gas, so estimated after all
    assert bounded == [200_000, estimated, "NothingToWithdraw"]
