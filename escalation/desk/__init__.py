"""The agent's desk: escalate tickets, hand their context over sealed, follow the jobs to their end."""
