// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {JobStatus, RulingOption} from "../interfaces/IJobEscrow.sol";

/// @title RulingMath
/// @notice Who gets what when a disputed job settles (docs/protocol.md, "Disputes and arbitration"):
/// the escrow's arithmetic, without storage or transfers, so that it is tested on its own.
/// @dev Conservation: the four parts of `shares` add up to what the escrow holds for the job, which
/// is reward + protocol fee, + the oracle fee when the oracle missed its deadline, + the bond when
/// the disputer paid, - the fee when the worker borrowed fee and bond from the reward.
library RulingMath {
    /// @notice A dispute as the escrow records it, in one storage slot: what arbitration needs
    /// besides the job's terms.
    struct Dispute {
        uint64 disputeId; // the arbitrator's id
        uint64 fee; // arbitration fee the disputer paid, or borrowed from the reward
        uint64 bond; // returned, or forfeited when the disputer is proven wrong
        JobStatus disputed; // Approved, Rejected or Submitted (the oracle missed its deadline)
        bool byWorker; // the worker disputed; else the agent
        bool fromReward; // the worker borrowed fee and bond from the reward at stake
        bool ruled; // a ruling arrived; without one (timeout) the job splits
        RulingOption ruling; // Split while not ruled
    }

    /// @notice The dispute bond of a job with `reward`: `bps` of it, at least `minimum`.
    function bond(uint256 reward, uint256 bps, uint256 minimum) internal pure returns (uint256 amount) {
        amount = (reward * bps) / 10_000;
        if (amount < minimum) amount = minimum;
    }

    /// @notice Whether a worker may borrow `fee` + `bond` from `reward`: only from the half a split
    /// would leave it, so that no ruling short of losing makes the agent pay for its dispute.
    function mayBorrow(uint256 reward, uint256 fee, uint256 bond_) internal pure returns (bool) {
        return fee + bond_ <= reward / 2;
    }

    /// @notice The option an arbitrator's `ruling` stands for; a number out of range is a refusal (split).
    function option(uint256 ruling) internal pure returns (RulingOption) {
        return ruling > uint256(RulingOption.RefundAgent) ? RulingOption.Split : RulingOption(ruling);
    }

    /// @notice Whether the ruling went the disputer's way (a split goes nobody's way).
    function disputerRight(Dispute memory d) internal pure returns (bool) {
        return d.ruling == (d.byWorker ? RulingOption.PayWorker : RulingOption.RefundAgent);
    }

    /// @notice Whether the ruling went against the disputer: its bond is forfeited.
    function disputerWrong(Dispute memory d) internal pure returns (bool) {
        return d.ruling == (d.byWorker ? RulingOption.RefundAgent : RulingOption.PayWorker);
    }

    /// @notice Whether a ruling overturned the oracle's verdict, so that its attesters are slashed;
    /// never without a ruling (a timeout) or when the oracle gave no verdict.
    function overturned(Dispute memory d) internal pure returns (bool) {
        return d.ruled
            && ((d.disputed == JobStatus.Approved && d.ruling == RulingOption.RefundAgent)
                || (d.disputed == JobStatus.Rejected && d.ruling == RulingOption.PayWorker));
    }

    /// @notice Where the money of a settled dispute of a job with `reward`, `oracleFee` and
    /// `protocolFee` goes: the reward pot by the ruling (1 pays the worker, 2 refunds the agent, 0
    /// halves reward and protocol fee, the agent taking the odd unit); an oracle that missed its
    /// deadline earned nothing, so its fee goes back to the agent; then the bond (see `bondShares`)
    /// and the repayment of a loan from the reward (see `repayLoan`).
    /// @return toWorker to the worker, after repaying a loan from the reward
    /// @return toAgent to the agent
    /// @return toTreasury protocol fee that accrues to the treasury
    /// @return toPool the arbitrators' share of a forfeited bond
    function shares(
        Dispute memory d,
        uint256 reward,
        uint256 oracleFee,
        uint256 protocolFee,
        uint256 bondPoolShareBps
    ) internal pure returns (uint256 toWorker, uint256 toAgent, uint256 toTreasury, uint256 toPool) {
        toAgent = d.disputed == JobStatus.Submitted ? oracleFee : 0;
        if (d.ruling == RulingOption.PayWorker) {
            toWorker = reward;
            toTreasury = protocolFee;
        } else if (d.ruling == RulingOption.RefundAgent) {
            toAgent += reward + protocolFee;
        } else {
            toWorker = reward / 2;
            toTreasury = protocolFee / 2;
            toAgent += reward - toWorker + protocolFee - toTreasury;
        }
        uint256 toDisputer;
        uint256 toOther;
        (toDisputer, toOther, toPool) = bondShares(d, bondPoolShareBps);
        if (d.byWorker) (toWorker, toAgent) = (toWorker + toDisputer, toAgent + toOther);
        else (toAgent, toWorker) = (toAgent + toDisputer, toWorker + toOther);
        if (d.fromReward) (toWorker, toAgent) = repayLoan(toWorker, toAgent, uint256(d.fee) + d.bond);
    }

    /// @notice The bond comes back unless the disputer was proven wrong; then it goes to the other
    /// side after `bondPoolShareBps` to the pool, except that a bond the worker took from the reward
    /// goes back to the agent whole, since it was the agent's money all along.
    function bondShares(Dispute memory d, uint256 bondPoolShareBps)
        internal
        pure
        returns (uint256 toDisputer, uint256 toOther, uint256 toPool)
    {
        if (!disputerWrong(d)) return (d.bond, 0, 0);
        toPool = d.fromReward ? 0 : (uint256(d.bond) * bondPoolShareBps) / 10_000;
        return (0, d.bond - toPool, toPool);
    }

    /// @notice A worker who disputed with the reward borrowed `loan` = fee + bond from it: the shares
    /// are what they would be had it paid them itself, and the loan comes out of its share. Only when
    /// that share is too small (it lost) does the rest fall on the agent, at most the fee, since the
    /// forfeited bond goes back to the agent.
    function repayLoan(uint256 workerShare, uint256 agentShare, uint256 loan)
        internal
        pure
        returns (uint256, uint256)
    {
        if (workerShare >= loan) return (workerShare - loan, agentShare);
        return (0, agentShare - (loan - workerShare));
    }

    /// @notice How `slashed` oracle stake is shared: the disputer's `fee` is reimbursed first; of the
    /// rest, `wrongedShareBps` goes to the disputer (the wronged party) and the remainder to the protocol.
    function slashShares(uint256 slashed, uint256 fee, uint256 wrongedShareBps)
        internal
        pure
        returns (uint256 toDisputer, uint256 toProtocol)
    {
        uint256 reimbursed = slashed < fee ? slashed : fee;
        uint256 wronged = ((slashed - reimbursed) * wrongedShareBps) / 10_000;
        return (reimbursed + wronged, slashed - reimbursed - wronged);
    }
}
