"""YAML input files (plans, calendars): read safely and at most the settings' size, validated
by a pydantic model, every problem named by the file and its key (`swaps[2].day_off`)."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from models.errors import InputError, Problem
from models.files import NUL
from models.settings import get_settings

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class KeyProblem(Problem):
    """A problem of a YAML file, at a key rather than a column."""

    def __str__(self) -> str:
        where = f"{self.file}, key {self.column}" if self.column else self.file
        return f"{where}: {self.message}"


class _Loader(yaml.SafeLoader):
    """yaml's safe loader, leaving dates as text: pydantic reads them, so a day that does not
    exist (2023-02-30) is refused at its key, not raised by yaml as a bare ValueError."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _nul_keys(data: Any, loc: tuple[int | str, ...]) -> Iterator[tuple[int | str, ...]]:
    """Where in the loaded YAML a key or a text holds a NUL character."""
    if isinstance(data, str):
        if "\x00" in data:
            yield loc
    elif isinstance(data, dict):
        for key, value in data.items():
            here = (*loc, str(key).replace("\x00", "\\x00"))  # shown, not sent to a terminal
            if "\x00" in str(key):
                yield here
            else:
                yield from _nul_keys(value, here)
    elif isinstance(data, list):
        for n, item in enumerate(data):
            yield from _nul_keys(item, (*loc, n))


def key_of(loc: tuple[int | str, ...]) -> str | None:
    """Pydantic's location as the file reads: `swaps[2].day_off`."""
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else f".{part}" if key else str(part)
    return key or None


def read_yaml(
    path: Path, model: type[Model], what: str, *, context: Mapping[str, Any] | None = None
) -> Model:
    """The file at `path` as a `model` (`what` names it in errors: "plan", "calendar");
    InputError names every problem by its key."""
    limit = get_settings().max_plan_bytes
    try:
        if (size := path.stat().st_size) > limit:
            message = f"the {what} is {size:,} bytes, more than the {limit:,} allowed"
            raise InputError([KeyProblem(path.name, None, None, message)])
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError, OverflowError) as exc:
        # ValueError, OverflowError: an explicitly tagged !!timestamp that is no date
        message = f"cannot read the {what}: {exc}".splitlines()[0]
        raise InputError([KeyProblem(path.name, None, None, message)]) from exc
    except RecursionError as exc:  # nesting deeper than Python's stack
        raise InputError([KeyProblem(path.name, None, None, "nested too deeply")]) from exc
    if not isinstance(data, dict):
        message = f"a {what} is a YAML mapping of keys"
        raise InputError([KeyProblem(path.name, None, None, message)])
    if held := list(_nul_keys(data, ())):  # PostgreSQL's text and JSON cannot hold a NUL
        raise InputError([KeyProblem(path.name, None, key_of(loc) or None, NUL) for loc in held])
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        problems: list[Problem] = [
            KeyProblem(path.name, None, key_of(e["loc"]), e["msg"].removeprefix("Value error, "))
            for e in exc.errors(include_url=False)
        ]
        raise InputError(problems) from exc
