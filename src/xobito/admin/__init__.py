"""The operator's admin API (spec §11), authenticated with ``XOBITO_ADMIN_KEY``."""
