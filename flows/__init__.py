"""Prefect code only: the campaign flow and its tasks (thin wrappers over `campaign.reconcile`),
the daily flow, events and artifacts, the database URL a flow may carry, the local server."""
