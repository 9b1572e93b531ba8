"""Turning pydantic validation errors of an input row into the operator's problems."""

from pydantic import ValidationError

from models.errors import Problem
from models.files import Sheet


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
