"""``Idempotency-Key`` on every POST under /api/v1 (docs/api/rate-limits.md)."""
