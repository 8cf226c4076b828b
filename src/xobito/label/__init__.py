"""Contact labels: statuses (pipeline stages), sources (lead origin) and groups (lists)."""
