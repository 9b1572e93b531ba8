"""Turning pydantic validation errors of an input row into the operator's problems."""

from typing import Annotated

from pydantic import StringConstraints, ValidationError

from models.errors import Problem
from models.files import Sheet

# A required cell: present and not blank once stripped (checked in pydantic's core, no Python
# call per cell: imports validate hundreds of thousands of rows).
Required = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def problems_of(sheet: Sheet, row: int, exc: ValidationError) -> list[Problem]:
    """One problem per failed field of `row`, named by the file's own header."""
    problems = []
    for error in exc.errors(include_url=False):
        key = str(error["loc"][0]) if error["loc"] else None
        value = error.get("input")
        shown = f" (got '{value}')" if isinstance(value, str) and value else ""
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing" or (isinstance(value, str) and not value.strip()):
            message, shown = "is empty", ""
        problems.append(sheet.problem(row, key, f"{message}{shown}"))
    return problems
