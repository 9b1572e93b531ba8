"""Turning pydantic validation errors of an input row into the operator's problems."""

from typing import Annotated

from pydantic import AfterValidator, ValidationError

from models.errors import Problem
from models.files import Sheet


def _not_empty(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


# A required cell: present and not blank once stripped.
Required = Annotated[str, AfterValidator(_not_empty)]


def problems_of(sheet: Sheet, row: int, exc: ValidationError) -> list[Problem]:
    """One problem per failed field of `row`, named by the file's own header."""
    problems = []
    for error in exc.errors(include_url=False):
        key = str(error["loc"][0]) if error["loc"] else None
        value = error.get("input")
        shown = f" (got '{value}')" if isinstance(value, str) and value else ""
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing" or value == "":
            message, shown = "is empty", ""
        problems.append(sheet.problem(row, key, f"{message}{shown}"))
    return problems
