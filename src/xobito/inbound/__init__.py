"""Receiving from Meta (spec §9): verified webhooks, a durable inbox, and its processing."""
