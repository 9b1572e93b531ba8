"""How pytest-xdist spreads the suite over its workers (`make test` runs `pytest -n logical
--maxprocesses 2`).

Each worker is a process with session fixtures of its own (tests/conftest.py: its own throwaway
PostgreSQL, its own Prefect test harness), so tests are handed out one at a time to whichever
worker is free, with one exception: the tests of a module that declares (or whose conftest.py
declares) a fixture set up once per module or class, such as a Prefect server with its worker,
go to one worker together, so that the fixture is set up once, not once per worker. xdist's
`--dist loadgroup` would do this with `xdist_group` marks, but with pytest 9.2 it silently
ignores them (pytest-xdist issue 1386), hence the scheduler below. The workers take the slowest
tests first: a long test started last would leave the other worker idle at the end.
"""

import ast
import functools
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

# Roughly how many seconds a test of each node-id prefix takes in CI (the longest prefix that
# matches a test counts; other tests take about a second or less). Only the order depends on
# these: a test renamed or sped up is merely started earlier than it needs to be.
SECONDS = {
    "tests/flows/test_fanout.py": 230,
    "tests/campaign/test_working_days.py::test_a_working_days_plan_issues_no_notice_on_a_day_": 30,
    "tests/states/test_tamper.py::test_the_cli_keeps_a_head_and_catches_a_rewrite_with_it": 25,
    "tests/cli/test_cli_campaign.py::test_facts_run_status_escalations_audit": 20,
    "tests/flows/test_deployment.py": 20,
    "tests/cli/test_cli_inputs.py::test_hostile_names_and_actors_come_out_as_text": 12,
    "tests/flows/test_runs_trust.py": 10,
    "tests/cli/": 5,
    "tests/campaign/test_backup.py": 5,
    "tests/flows/": 4,
    "tests/web/": 3,
}
SHARED_SCOPES = {"module", "class", "package"}


def _seconds(item: pytest.Item) -> int:
    """The expected duration of `item`: its longest matching prefix's, else 0."""
    matching = [prefix for prefix in SECONDS if item.nodeid.startswith(prefix)]
    return SECONDS[max(matching, key=len)] if matching else 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker, the slowest tests first (every worker sorts its collection alike)."""
    if hasattr(config, "workerinput"):  # a single process keeps the order of the files
        items.sort(key=_seconds, reverse=True)  # stable: equals keep the files' order


@functools.cache
def _declares_a_shared_fixture(path: Path) -> bool:
    """Whether the Python file `path` declares a fixture of module, class or package scope."""
    if not path.is_file():
        return False
    calls = [
        n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.Call)
    ]
    return any(
        ast.unparse(call.func).endswith("fixture")
        and keyword.arg == "scope"
        and isinstance(keyword.value, ast.Constant)
        and keyword.value.value in SHARED_SCOPES
        for call in calls
        for keyword in call.keywords
    )


def _module_shares_a_fixture(root: Path, module: str) -> bool:
    """Whether the test module `module` (relative to `root`) or a conftest.py above it
    declares a fixture its tests would share."""
    path = root / module
    conftests = [folder / "conftest.py" for folder in path.parents if folder.is_relative_to(root)]
    return any(_declares_a_shared_fixture(file) for file in [path, *conftests])


class ModulesWhole(LoadScopeScheduling):
    """xdist's `load` (each test to the first free worker), but a module whose tests share a
    fixture is one unit of work, given to one worker whole."""

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        return module if _module_shares_a_fixture(self.config.rootpath, module) else nodeid


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # before xdist's own; unknown without xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadScopeScheduling | None:
    """`-n N` alone (`--dist load`): ModulesWhole, in the order the workers collected (pyproject's
    --no-loadscope-reorder); any other --dist: xdist's own."""
    return ModulesWhole(config, log) if config.getvalue("dist") == "load" else None
