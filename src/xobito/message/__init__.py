"""Sending WhatsApp messages and tracking their delivery (docs/api/messages.md)."""
