"""Receiving from Meta (docs/webhooks.md): verified webhooks, a durable inbox, and its
processing."""
