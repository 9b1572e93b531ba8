"""Prefect flows and tasks of a campaign, and the operator's command line."""
