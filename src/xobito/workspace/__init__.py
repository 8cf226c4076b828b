"""Workspaces (tenants) and their settings."""
