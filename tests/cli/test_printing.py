"""The CLI's account of a run: its table of new notices says what each row's members are."""

import datetime as dt

from rich.console import Console

from cli.printing import print_run
from models.views import AuditHeadView, NoticeView, RunResult, Target, Targets


def _notice(unit: str, step: str, level: int, members: int) -> NoticeView:
    return NoticeView(
        unit=unit,
        unit_name=unit,
        step=step,
        level=level,
        obligations=["self_assess"],
        members=members,
        document=f"notice:{unit}:{step}:{level}:2023-05-12",
    )


def _result(**changes: object) -> RunResult:
    """A run of T23 on 12/05/2023 with nothing done yet, changed as the test says."""
    nothing = Target(done=0, eligible=0, percent=0.0)
    targets = Targets(
        members_self_assessed=nothing,
        leaders_self_assessed=nothing,
        branches_with_sessions=nothing,
    )
    return RunResult.model_validate(
        {
            "campaign": "T23",
            "as_of": dt.date(2023, 5, 12),
            "state": "running",
            "transitions": 3,
            "facts_applied": 0,
            "obligations_created": 0,
            "targets": targets,
            **changes,
        }
    )


def test_reminded_members_are_not_called_late() -> None:
    result = _result(notices=[_notice("B1", "reminder", 0, 2), _notice("B2", "overdue", 0, 1)])
    out = Console(record=True, width=120, markup=False)
    print_run(out, result)
    text = out.export_text()
    assert "late members" not in text
    assert "members listed" in text
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if "│ B" in line}
    assert "2 not yet in" in rows["reminder"] and "late" not in rows["reminder"]
    assert "1 late" in rows["overdue"]


def test_the_audit_head_to_keep_is_one_line_in_a_narrow_terminal() -> None:
    """A reviewer copies the run's SEQ:HASH whole: it never wraps."""
    head = AuditHeadView(seq=6880, hash="ab" * 32, recorded_at="2023-05-12T00:00:00+00:00")
    result = _result(state="active", notices=[], audit_head=head)
    out = Console(record=True, width=60, markup=False)
    print_run(out, result)
    lines = out.export_text().splitlines()
    assert f"audit head: event 6,880 (keep 6880:{'ab' * 32})" in lines
