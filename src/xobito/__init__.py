"""Xobito: a self-hostable WhatsApp Business messaging platform."""

__version__ = "0.1.0"
