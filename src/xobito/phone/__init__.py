"""Phone number format validation (docs/api/messages.md)."""
