"""Outbound webhooks (spec §10): endpoints, the transactional outbox, signed deliveries."""
