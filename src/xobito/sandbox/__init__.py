"""Sandbox simulation (spec §12): customers' messages and delivery statuses, without Meta."""
