"""The campaign's logic: plain functions over a SQLAlchemy `Session`, no Prefect."""
