"""The layout's limits (issue 21), over every Python file git knows of.

No module over 400 lines, no function over 60 lines (its decorators included), no two modules
of one name. Migrations are exempt from the sizes: they are frozen once written. The import
contracts (layers, cycles, Prefect) are pyproject.toml's [tool.importlinter], run by
`lint-imports` in `make test`.
"""

import ast
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
FROZEN = "models/migrations/versions/"
NAMES_ANY_PACKAGE_MAY_SHARE = {"__init__.py", "conftest.py"}


def python_files() -> list[str]:
    """Every .py file git tracks, or would track (new, not ignored), relative to the root."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return sorted({path for path in listed if (ROOT / path).is_file()})


def sized_files() -> list[str]:
    """The files the size limits apply to: all but the frozen migrations."""
    return [path for path in python_files() if not path.startswith(FROZEN)]


def function_sizes(source: str) -> Iterator[tuple[int, str, int]]:
    """(first line, name, lines) of every function and method, decorators counted."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            yield first, node.name, (node.end_lineno or node.lineno) - first + 1


def test_python_files_are_found() -> None:
    assert "tests/test_layout.py" in python_files()


def test_a_function_size_counts_its_decorators() -> None:
    source = "@first\n@second(\n    1,\n)\ndef f():\n    return 1\n\n\nasync def g():\n    pass\n"
    assert sorted(function_sizes(source)) == [(1, "f", 6), (9, "g", 2)]


def test_no_module_is_over_the_limit() -> None:
    offenders = []
    for path in sized_files():
        lines = len((ROOT / path).read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            offenders.append(f"{path}:1 {lines} lines")
    if offenders:
        pytest.fail(f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(offenders))


def test_no_function_is_over_the_limit() -> None:
    offenders = []
    for path in sized_files():
        source = (ROOT / path).read_text(encoding="utf-8")
        for line, name, lines in sorted(function_sizes(source)):
            if lines > MAX_FUNCTION_LINES:
                offenders.append(f"{path}:{line} {name}() {lines} lines")
    if offenders:
        pytest.fail(f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(offenders))


def test_no_two_modules_share_a_name() -> None:
    paths_by_name: dict[str, list[str]] = defaultdict(list)
    for path in python_files():
        name = Path(path).name
        if name not in NAMES_ANY_PACKAGE_MAY_SHARE:
            paths_by_name[name].append(path)
    offenders = [" ".join(paths) for paths in paths_by_name.values() if len(paths) > 1]
    if offenders:
        pytest.fail("modules sharing a name:\n" + "\n".join(offenders))
