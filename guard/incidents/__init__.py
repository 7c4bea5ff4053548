"""Incidents: evidence of every decision that is not a plain allow, never lost, never leaking."""
