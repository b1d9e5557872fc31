"""The worker's app and CLI: a wallet, a profile, jobs, the work itself, money and disputes (issue 13)."""
