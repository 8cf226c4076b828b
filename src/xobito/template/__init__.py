"""Message templates: synchronised from Meta, read over the API (docs/api/templates.md)."""
