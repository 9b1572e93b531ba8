"""Jinja2 templates of every document the engine writes."""
