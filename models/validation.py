"""Turning pydantic validation errors of an input row into the operator's problems, and the
constrained cells every input file shares: codes, names, free text."""

from typing import Annotated

from pydantic import StringConstraints, ValidationError

from models.errors import Problem
from models.files import Sheet

# A required cell: present and not blank once stripped (checked in pydantic's core, no Python
# call per cell: imports validate hundreds of thousands of rows).
Required = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

# The limits of the columns they are stored in (String(64), String(255)): checked here, since
# SQLite enforces no length and PostgreSQL would refuse the whole transaction without a row.
CODE_LENGTH = 64
NAME_LENGTH = 255
# A code names a folder of `campaign docs` and a segment of a unit's path ('/TINH/D01/'): ASCII
# letters, digits, '-', '_' and '.', beginning with a letter or a digit (so no '/', no '..',
# no absolute path, no option-like '-x'), as plan codes already are.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
CODE_RULE = (
    "may hold only ASCII letters, digits, '-', '_' and '.', and begins with a letter or digit"
)

Code = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=CODE_LENGTH, pattern=CODE_PATTERN
    ),
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_LENGTH)
]
# A reference to a code (a member's unit, a fact's unit or member): looked up, so only as long.
CodeRef = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=CODE_LENGTH)
]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=NAME_LENGTH)]

_SHOWN = 40  # characters of a refused value quoted back (a cell may be a megabyte)


def problems_of(sheet: Sheet, row: int, exc: ValidationError) -> list[Problem]:
    """One problem per failed field of `row`, named by the file's own header."""
    problems = []
    for error in exc.errors(include_url=False):
        key = str(error["loc"][0]) if error["loc"] else None
        value = error.get("input")
        shown = f" (got '{_clip(value)}')" if isinstance(value, str) and value else ""
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "string_pattern_mismatch":
            message = CODE_RULE
        elif error["type"] == "string_too_long" and isinstance(value, str):
            limit = (error.get("ctx") or {}).get("max_length")
            message, shown = f"is {len(value.strip()):,} characters long, at most {limit}", ""
        if error["type"] == "missing" or (isinstance(value, str) and not value.strip()):
            message, shown = "is empty", ""
        problems.append(sheet.problem(row, key, f"{message}{shown}"))
    return problems


def _clip(value: str) -> str:
    return value if len(value) <= _SHOWN else value[: _SHOWN - 1] + "…"
