"""The one Jinja2 environment of the engine, rendering view models (plain data) only."""

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from templates.filters import FILTERS


@lru_cache
def environment() -> Environment:
    """The shared environment: strict about undefined names, escaping HTML."""
    env = Environment(
        loader=PackageLoader("templates", "."),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates ship with the package and do not change while it runs: no stat of the
        # file before every render (thousands of notices a run).
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    return env


def render_markdown(name: str, context: dict[str, Any]) -> str:
    """Render a Markdown template with `context`."""
    return environment().get_template(name).render(**context)


def render_html(name: str, context: dict[str, Any]) -> str:
    """Render an HTML template with `context` (autoescaped)."""
    return environment().get_template(name).render(**context)
