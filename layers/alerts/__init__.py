"""Alerts: declared and area rules, their evaluation, reading and acknowledging, webhooks."""
