"""Matching a posted job to workers: the registry's hard constraints, a soft score, ranking and batches."""
