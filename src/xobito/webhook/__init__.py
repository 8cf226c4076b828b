"""Outbound webhooks (docs/webhooks.md): endpoints, the transactional outbox, signed deliveries."""
