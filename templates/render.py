"""The one Jinja2 environment of the engine, rendering view models: the pydantic models of
campaign/doc_views.py, and the context a notice is stored with."""

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel

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


def render(name: str, view: BaseModel | Mapping[str, Any]) -> str:
    """Render template `name` with the fields of `view` as its names: HTML templates are
    autoescaped, Markdown ones escape through the `md` filter."""
    names = dict(view)  # a model's fields stay typed: nested models, dates as dates
    return environment().get_template(name).render(names)
