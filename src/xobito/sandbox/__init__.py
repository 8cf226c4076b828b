"""Sandbox simulation (docs/api/messages.md): customers' messages and delivery statuses, without
Meta."""
