"""The engine's exceptions: one small tree, translated to exit codes once, at the CLI.

CampaignError
 ├── InputError          a bad input file: every problem with file, row and column
 ├── TransitionRefused   a trigger that is not valid from the entity's state
 ├── ConcurrentChange    the entity left the expected state under our feet
 ├── OutOfScope          a request outside the campaign (earlier date, unknown target)
 ├── AuditBroken         the audit chain does not verify
 ├── OutsideFolder       a file that would be written outside the folder it belongs in
 └── NotFound            (also a LookupError) an unknown campaign, unit or member
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Self


class CampaignError(Exception):
    """Base of every error the engine reports to an operator."""

    def lines(self) -> list[str]:
        """The `error: …` lines an operator reads, one per problem."""
        return [str(self)]


@dataclass(frozen=True)
class Problem:
    """One problem of an input file, where a spreadsheet shows it (header is row 1)."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class Problems(list[Problem]):
    """The problems of a file as they are found: the first KEPT kept, the others only counted
    (a million bad rows are not a million objects). Its len() counts them all."""

    KEPT = 1_000

    def __init__(self) -> None:
        super().__init__()
        self.more = 0

    def append(self, problem: Problem) -> None:
        if super().__len__() < self.KEPT:
            super().append(problem)
        else:
            self.more += 1

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.append(problem)

    def __iadd__(self, problems: Iterable[Problem]) -> Self:  # type: ignore[override,misc]
        self.extend(problems)
        return self

    def __len__(self) -> int:
        return super().__len__() + self.more


class InputError(CampaignError):
    """An input file refused whole, with every problem found in it (the first SHOWN listed)."""

    SHOWN = 100  # a million bad rows are not a million lines to read

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.row or 0, p.column or ""))
        self.total = len(problems)  # with those a Problems only counted
        super().__init__("; ".join(str(p) for p in self.problems[:3]))

    def lines(self) -> list[str]:
        shown = [str(p) for p in self.problems[: self.SHOWN]]
        if (more := self.total - len(shown)) > 0:
            shown.append(f"… and {more:,} more errors")
        return shown


class TransitionRefused(CampaignError):
    """A trigger not valid from the entity's current state."""

    def __init__(
        self, entity: str, entity_id: object, state: str, trigger: str, rules: str = ""
    ) -> None:
        self.entity, self.entity_id, self.state, self.trigger = entity, entity_id, state, trigger
        why = f"rule not met: {rules}" if rules else "not allowed from there"
        super().__init__(f"{entity} {entity_id} is '{state}': '{trigger}' is {why}")


class ConcurrentChange(CampaignError):
    """The entity's state changed between reading and writing it."""


class OutOfScope(CampaignError):
    """A request outside what the campaign allows (an earlier date, a closed campaign)."""


class AuditBroken(CampaignError):
    """The audit trail does not verify."""


class OutsideFolder(CampaignError):
    """A file that would be written outside the folder it was asked for (a code holding '..'
    or '/', a symbolic link leading out)."""


class NotFound(CampaignError, LookupError):
    """An unknown campaign, unit or member."""
