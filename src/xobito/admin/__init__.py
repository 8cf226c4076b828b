"""The operator's admin API (docs/api/admin.md), authenticated with ``XOBITO_ADMIN_KEY``."""
