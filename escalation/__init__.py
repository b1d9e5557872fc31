"""The AI agent's side of the protocol: decide which tickets go to a paid human, and learn from them."""
