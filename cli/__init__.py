"""The operator's command line (`campaign ...`), a thin Typer app over the campaign's logic."""
