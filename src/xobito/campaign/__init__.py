"""Campaigns: template broadcasts to an audience, paced per sending number, with a result
per recipient (issue 13)."""
