// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title SortitionTree
/// @notice Weighted random selection over 1-based slots with a Fenwick (binary indexed) tree:
/// updating a weight and finding the slot that holds a given point both cost O(log n) storage
/// accesses, where n is the number of slots rounded up to a power of two.
library SortitionTree {
    struct Tree {
        uint256 size; // a power of two (0 while empty); nodes[size] is the total weight
        mapping(uint256 node => uint256) nodes;
    }

    /// @notice Thrown when a slot index is 0.
    error InvalidSlot(uint256 slot);

    /// @notice Adds `amount` to the weight of `slot`, growing the tree to hold it.
    function add(Tree storage tree, uint256 slot, uint256 amount) internal {
        if (slot == 0) revert InvalidSlot(slot);
        uint256 size = tree.size;
        if (slot > size) size = _grow(tree, slot);
        for (uint256 i = slot; i <= size; i += i & (~i + 1)) {
            tree.nodes[i] += amount;
        }
    }

    /// @notice Takes `amount` from the weight of `slot`; reverts on underflow.
    function sub(Tree storage tree, uint256 slot, uint256 amount) internal {
        uint256 size = tree.size;
        if (slot == 0 || slot > size) revert InvalidSlot(slot);
        for (uint256 i = slot; i <= size; i += i & (~i + 1)) {
            tree.nodes[i] -= amount;
        }
    }

    /// @notice The sum of all weights.
    function total(Tree storage tree) internal view returns (uint256) {
        return tree.size == 0 ? 0 : tree.nodes[tree.size];
    }

    /// @notice The slot whose weight interval contains `point` (0 <= point < total), and where that
    /// interval starts (the sum of the weights of all lower slots).
    function find(Tree storage tree, uint256 point) internal view returns (uint256 slot, uint256 start) {
        uint256 size = tree.size;
        for (uint256 step = size; step > 0; step >>= 1) {
            uint256 next = slot + step;
            if (next <= size) {
                uint256 weight = tree.nodes[next];
                if (weight <= point) {
                    slot = next;
                    point -= weight;
                    start += weight;
                }
            }
        }
        return (slot + 1, start);
    }

    /// @dev Doubling keeps the Fenwick layout: each new power-of-two node covers every slot so far,
    /// so it starts at the old total; the other new nodes cover only empty slots.
    function _grow(Tree storage tree, uint256 slot) private returns (uint256 size) {
        size = tree.size;
        uint256 sum = size == 0 ? 0 : tree.nodes[size];
        if (size == 0) size = 1;
        while (size < slot) {
            size <<= 1;
            if (sum != 0) tree.nodes[size] = sum;
        }
        tree.size = size;
    }
}
