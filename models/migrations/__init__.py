"""Alembic migrations of the campaign database."""
