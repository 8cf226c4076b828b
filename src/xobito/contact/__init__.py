"""Contacts: the people a workspace talks to (spec §5)."""
