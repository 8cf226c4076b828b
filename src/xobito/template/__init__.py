"""Message templates: synchronised from Meta, read over the API (spec §7)."""
