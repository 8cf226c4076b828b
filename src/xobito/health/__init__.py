"""Liveness, readiness and metrics (docs/deployment.md)."""
