"""Who acted, accountably (issue 20, finding 8): the actor every command records is checked in
one place, and every change that moves a member or a unit in or out of a target is an audit
event with its actor. Run through the real `campaign` command."""

import json
import os
import pwd
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from models.audit import AuditEvent, AuditHead
from models.campaigns import Campaign
from models.db import transaction
from states.audit_chain import verify_chain
from tests.cli_process import CAMPAIGN, run_cli
from tests.input_files import MEMBER_HEADER, UNIT_HEADER, write_csv
from tests.town import MEMBERS, UNITS, plan_for


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _head(engine: Engine) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(AuditHead.seq)) or 0)


def _trail(engine: Engine, *options: str) -> list[dict[str, Any]]:
    shown = run_cli("audit", "T23", *options, "--format", "json", database_url=_url(engine))
    assert shown.returncode == 0, shown.stderr
    return list(json.loads(shown.stdout))


def _roster(tmp_path: Path, changes: dict[str, list[str]]) -> Path:
    """The town's roster with some members' rows replaced."""
    rows = [changes.get(row[0], row) for row in MEMBERS]
    return write_csv(tmp_path / "roster.csv", MEMBER_HEADER, rows)


@pytest.mark.parametrize(
    "command",
    [
        ("members", "import", "{roster}"),
        ("units", "import", "{units}"),
        ("plan", "register", "{plan}"),
        ("run", "T23", "--as-of", "2023-02-01"),
        ("status", "T23"),
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_the_reserved_actor_is_refused(
    town: Engine, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """`system` is the scheduled flow's: no operator can record it, on any command, however
    it is spelt."""
    files = {
        "roster": _roster(tmp_path, {"M2": ["M2", "Trần Thị Bình", "B1", "no", "", "exempt"]}),
        "units": write_csv(tmp_path / "u.csv", UNIT_HEADER, UNITS),
        "plan": plan_for(tmp_path, "la-gi-2023.yaml", code="T23", title="Đổi tên"),
    }
    before = _head(town)
    args = [part.format(**files) for part in command]
    spellings = ["system", " System ", "ＳＹＳＴＥＭ"] if command[0] == "members" else ["system"]
    for actor in spellings:
        refused = run_cli(*args, "--actor", actor, database_url=_url(town))
        assert (refused.returncode, refused.stderr) == (
            1,
            "error: --actor: 'system' is reserved for the scheduled runs\n",
        )
    assert _head(town) == before


@pytest.mark.parametrize(
    ("actor", "why"),
    [
        ("x" * 100, "is 100 characters long, at most 64"),
        ("ops\x1b[2Jroot", "holds the control character U+001B"),
        ("ops\u202eroot", "holds the control character U+202E"),
        ("", "is empty"),
    ],
    ids=["too long", "escape", "bidi override", "empty"],
)
def test_an_actor_the_trail_cannot_hold_is_refused_before_anything_runs(
    town: Engine, actor: str, why: str
) -> None:
    """On SQLite a 100-character actor was stored; on PostgreSQL it failed the run in a task:
    both backends now refuse it at the command line, and the run never starts."""
    before = _head(town)
    ran = run_cli("run", "T23", "--as-of", "2023-02-01", "--actor", actor, database_url=_url(town))
    assert (ran.returncode, ran.stderr) == (1, f"error: --actor: {why}\n")
    with transaction(town) as session:
        assert session.scalar(select(Campaign.last_run_on)) is None
    assert _head(town) == before


def test_the_longest_actor_the_column_holds_is_recorded_on_both_backends(
    town: Engine, tmp_path: Path
) -> None:
    actor = "đ" * 64
    roster = _roster(tmp_path, {"M2": ["M2", "Trần Thị Bình", "B1", "no", "", "exempt"]})
    done = run_cli("members", "import", roster, "--actor", actor, database_url=_url(town))
    assert done.returncode == 0, done.stderr
    assert [e["actor"] for e in _trail(town, "--member", "M2")] == [actor]


def test_the_default_actor_is_the_os_account_not_the_environment(
    town: Engine, tmp_path: Path
) -> None:
    """LOGNAME and USER are anyone's to set: the default is the account the process runs as."""
    roster = _roster(tmp_path, {"M2": ["M2", "Trần Thị Bình", "B1", "no", "", "exempt"]})
    env = {
        **os.environ,
        "CAMPAIGN_DATABASE_URL": _url(town),
        "LOGNAME": "system",
        "USER": "system",
        "LNAME": "system",
        "USERNAME": "system",
    }
    done = subprocess.run(
        [CAMPAIGN, "members", "import", str(roster)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    account = pwd.getpwuid(os.geteuid()).pw_name
    assert [e["actor"] for e in _trail(town, "--member", "M2")] == [account]


def test_making_a_member_exempt_is_an_audited_event(town: Engine, tmp_path: Path) -> None:
    """Exempting a member takes them out of every target: the roster import that does it is
    an event with its actor (before, `--actor` was ignored and nothing was recorded)."""
    roster = _roster(
        tmp_path,
        {
            "M2": ["M2", "Trần Thị Bình", "B1", "no", "", "exempt"],
            "M4": ["M4", "Phạm Thị Dung", "B1", "yes", "Phó bí thư", "active"],
            "M7": ["M7", "Đặng Văn Hùng Mới", "G2", "no", "Kế toán", "active"],  # no target moved
        },
    )
    done = run_cli(
        "members",
        "import",
        roster,
        "--on",
        "2023-03-01",
        "--actor",
        "chi-uy-b1",
        database_url=_url(town),
    )
    assert done.returncode == 0, done.stderr
    assert "3 updated" in done.stdout
    exempt = _trail(town, "--member", "M2")
    assert [(e["trigger"], e["from"], e["to"], e["actor"], e["at"]) for e in exempt] == [
        ("roster_update", "active", "exempt", "chi-uy-b1", "2023-03-01")
    ]
    assert exempt[0]["reason"] == "status active → exempt"
    moved = _trail(town, "--member", "M4")
    assert [(e["unit"], e["from"], e["to"], e["reason"]) for e in moved] == [
        ("B1", "active", "active", "unit B2 → B1; leader no → yes")
    ]
    assert _trail(town, "--member", "M7") == [], "a new name or position moves no target"
    head = _head(town)
    with transaction(town) as session:
        payload = session.scalar(
            select(AuditEvent.payload).where(AuditEvent.seq == moved[0]["seq"])
        )
        assert verify_chain(session) == head
    assert json.loads(payload or "") == {
        "leader": {"from": False, "to": True},
        "unit": {"from": "B2", "to": "B1"},
    }


def test_a_unit_moved_to_another_parent_is_an_audited_event(town: Engine, tmp_path: Path) -> None:
    tree = [*UNITS[:3], ["B2", "Chi bộ khu phố 2", "branch", "G3"]]
    tree += [UNITS[4], ["G3", "Đảng bộ phường Mới", "grassroots", "TOWN"]]
    done = run_cli(
        "units",
        "import",
        write_csv(tmp_path / "units.csv", UNIT_HEADER, tree),
        "--actor",
        "ban-to-chuc",
        database_url=_url(town),
    )
    assert done.returncode == 0, done.stderr
    events = _trail(town, "--unit", "G3")
    assert [(e["unit"], e["trigger"], e["from"], e["to"], e["actor"]) for e in events] == [
        ("G3", "tree_add", "absent", "grassroots", "ban-to-chuc"),
        ("B2", "tree_update", "branch", "branch", "ban-to-chuc"),
    ]
    assert events[1]["reason"] == "parent G1 → G3"


def test_importing_the_same_files_again_records_nothing(town: Engine, tmp_path: Path) -> None:
    url = _url(town)
    before = _head(town)
    roster = write_csv(tmp_path / "members.csv", MEMBER_HEADER, MEMBERS)
    tree = write_csv(tmp_path / "units.csv", UNIT_HEADER, UNITS)
    plan = plan_for(tmp_path, "la-gi-2023.yaml", code="T23")
    for args in (
        ("units", "import", tree),
        ("members", "import", roster),
        ("plan", "register", plan),
    ):
        done = run_cli(*args, "--actor", "ops", database_url=url)
        assert done.returncode == 0, done.stderr
    assert _head(town) == before
    # And a changed file records its change once: importing it twice adds nothing more.
    exempt = _roster(tmp_path, {"M2": ["M2", "Trần Thị Bình", "B1", "no", "", "exempt"]})
    for _ in range(2):
        assert run_cli("members", "import", exempt, database_url=url).returncode == 0
    assert _head(town) == before + 1


def test_a_plan_registered_or_changed_is_an_audited_event(town: Engine, tmp_path: Path) -> None:
    url = _url(town)
    changed = plan_for(tmp_path, "la-gi-2023.yaml", code="T23", title="Tiêu đề mới")
    done = run_cli("plan", "register", changed, "--actor", "van-phong", database_url=url)
    assert done.returncode == 0, done.stderr
    with transaction(town) as session:
        events = session.execute(
            select(AuditEvent.trigger, AuditEvent.actor, AuditEvent.reason, AuditEvent.payload)
            .where(AuditEvent.entity == "campaign")
            .order_by(AuditEvent.seq)
        ).all()
    assert [(t, a, r) for t, a, r, _ in events] == [
        ("plan_registered", "system", "registered from la-gi-2023.yaml"),
        ("plan_changed", "van-phong", "title Giữ trọn lời thề đảng viên → Tiêu đề mới"),
    ]
    assert json.loads(events[1][3]) == {
        "title": {"from": "Giữ trọn lời thề đảng viên", "to": "Tiêu đề mới"}
    }


def test_a_first_roster_is_recorded_set_based_one_event_per_member(
    engine: Engine, tmp_path: Path
) -> None:
    """A province's first roster is hundreds of thousands of members: their events are
    appended set-based, and the chain verifies."""
    url = _url(engine)
    assert (
        run_cli(
            "units", "import", write_csv(tmp_path / "u.csv", UNIT_HEADER, UNITS), database_url=url
        ).returncode
        == 0
    )
    rows = [
        [f"N{i:05}", f"Người {i}", "B1" if i % 2 else "G2", "no", "", "active"] for i in range(3000)
    ]
    done = run_cli(
        "members",
        "import",
        write_csv(tmp_path / "m.csv", MEMBER_HEADER, rows),
        "--actor",
        "ops",
        database_url=url,
    )
    assert done.returncode == 0, done.stderr
    with transaction(engine) as session:
        added = session.execute(
            select(AuditEvent.trigger, AuditEvent.actor, func.count())
            .where(AuditEvent.entity == "member")
            .group_by(AuditEvent.trigger, AuditEvent.actor)
        ).all()
        assert verify_chain(session) == 3000 + len(UNITS)
    assert added == [("roster_add", "ops", 3000)]
