"""Deferred work: a jobs table written in the caller's transaction, run by workers."""
