"""Liveness, readiness and metrics (spec §13)."""
