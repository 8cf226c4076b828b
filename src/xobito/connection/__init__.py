"""A workspace's WhatsApp connection: provider, WABA, numbers, secrets (docs/api/README.md,
docs/api/admin.md)."""
