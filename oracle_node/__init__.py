"""Oracle node: watches submitted evidence, verifies it off chain and attests on chain."""
