"""``Idempotency-Key`` on every POST under /api/v1 (spec §3)."""
