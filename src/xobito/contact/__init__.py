"""Contacts: the people a workspace talks to (docs/api/contacts.md)."""
