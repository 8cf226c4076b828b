"""A workspace's WhatsApp connection: provider, WABA, numbers, secrets (spec §1, §11)."""
