"""The activity log: who changed what, when and from where (dashboard, admin API, tokens, CLI)."""
