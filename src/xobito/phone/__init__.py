"""Phone number format validation (spec §8.8)."""
