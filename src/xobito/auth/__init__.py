"""API tokens: issuing, hashing, resolving, abilities, rate limits."""
