"""The development harness the demo, the tests and the benches share; never imported by shipped code.

chain: anvil (standalone, forked, timer-mined), free ports, a token placed at a real address;
rpc_proxy: an anvil that passes for a live network; accounts: the test mnemonic's keys and
keystores; daemons: one launcher for every daemon as a real process; oracle_nodes: the oracle
network; servers: Redis, PostgreSQL and taskiq workers; system: deploy and set up with ape;
protocol: the deploy and ops commands as processes, and a web3 driver of every role against a
standalone chain; reverts: the strict revert assertion; arbitration: a dispute round.
"""
