"""Sending WhatsApp messages and tracking their delivery (spec §8)."""
