"""Recording a unit's facts from forms: a session held, members' self-assessments, an activity,
a report. Each form becomes rows of a facts file and goes through `import_facts`, as
`campaign facts import` does: the same checks, the same refusal by row and column, nothing
stored from a refused entry, nothing recorded twice; the actor is the logged-in account, and
each fact recorded is audited as theirs (`campaign.recorded_facts`)."""

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from campaign.access import Viewer
from campaign.form_facts import Entry, checklist, form_sheet, parse_form_day, reportable_kinds
from campaign.intake.fact_sheet import FactsSummary
from campaign.recorded_facts import record_facts
from models.calendar import today
from models.errors import InputError
from models.facts import FactKind
from web.page import page
from web.problems import problem_lines
from web.scope import RECORDERS, reach, require_role, unit_within
from web.session import CheckedForm, current_viewer, reading, writing

router = APIRouter()
Who = Annotated[Viewer, Depends(current_viewer)]

# The forms of the page (the posted field `form`) and the kind of fact each records.
FORMS = {
    "session": FactKind.session_held,
    "activity": FactKind.activity_held,
    "report": FactKind.report_submitted,
}
# The checklist's choice (the posted field `kind`) → the kind of fact recorded for each member.
ASSESSMENT_KINDS = {
    "submitted": FactKind.self_assessment_submitted,
    "accepted": FactKind.self_assessment_accepted,
    "returned": FactKind.self_assessment_returned,
}
WHAT = "ghi nhận kết quả của đơn vị"
ASSESSMENT_NAMES = {
    "pending": "chưa nộp",
    "submitted": "đã nộp",
    "accepted": "được chấp nhận",
    "returned": "trả lại",
}


@dataclass
class Outcome:
    """What a posted form came to: recorded, already recorded, or refused with its problems."""

    form: str = ""
    recorded: int = 0
    already: int = 0
    problems: list[str] = field(default_factory=list)
    # A refused form's values, shown again in it to be fixed and sent again.
    kept: dict[str, str] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)


@router.get("/campaigns/{code}/units/{unit}/record")
def record_form(request: Request, code: str, unit: str, who: Who) -> HTMLResponse:
    """The unit's recording forms."""
    require_role(who, RECORDERS, WHAT)
    return _page(request, who, code, unit, None)


@router.post("/campaigns/{code}/units/{unit}/record")
def record_submit(
    request: Request, code: str, unit: str, who: Who, form: CheckedForm
) -> HTMLResponse:
    """Record one form's facts for the unit, by the logged-in account."""
    require_role(who, RECORDERS, WHAT)
    with reading(request) as session:
        where = reach(session, who, code)
        unit_code = unit_within(session, where, unit).code
    outcome = Outcome(form=str(form.get("form", "")))
    entries = _entries(form, outcome)
    if entries and not outcome.problems:
        try:
            with writing(request) as session:
                done = record_facts(
                    code,
                    form_sheet(unit_code, entries),
                    session=session,
                    actor=who.login,
                    today=today(),
                    within=where.root_path,
                )
            _count(outcome, done)
        except InputError as refused:
            outcome.problems = problem_lines(refused, with_file=False)
    if outcome.problems:
        outcome.kept = {k: str(form.get(k, "")) for k in ("date", "note", "kind")}
        outcome.members = [str(m) for m in form.getlist("member")]
    return _page(request, who, code, unit, outcome)


def _count(outcome: Outcome, done: FactsSummary) -> None:
    outcome.recorded, outcome.already = done.recorded, done.already_recorded


def _entries(form: FormData, outcome: Outcome) -> list[Entry]:
    """The facts a posted form records; what is missing from it goes to `outcome.problems`."""
    day = parse_form_day(str(form.get("date", "")), today())
    note = str(form.get("note", ""))
    if outcome.form in FORMS:
        return [Entry(day, FORMS[outcome.form], note=note)]
    if outcome.form != "assessments":
        outcome.problems.append("Biểu mẫu không rõ loại.")
        return []
    kind = ASSESSMENT_KINDS.get(str(form.get("kind", "")))
    members = [str(m) for m in form.getlist("member") if str(m).strip()]
    if kind is None:
        outcome.problems.append("Chưa chọn loại: đã nộp, được chấp nhận hay trả lại.")
    if not members:
        outcome.problems.append("Chưa chọn đảng viên nào.")
    if kind is None:
        return []
    return [Entry(day, kind, member=member, note=note) for member in members]


def _page(
    request: Request, who: Viewer, code: str, unit: str, outcome: Outcome | None
) -> HTMLResponse:
    with reading(request) as session:
        where = reach(session, who, code)
        found = unit_within(session, where, unit)
        members = checklist(session, where.campaign, found)
        kinds = reportable_kinds(where.campaign, found)
        context = {
            "campaign": where.campaign.code,
            "campaign_title": where.campaign.title,
            "unit": {"code": found.code, "name": found.name},
        }
        title = f"Ghi nhận kết quả · {found.name}"
    return page(
        request,
        "record.html.j2",
        title=title,
        who=who,
        status_code=400 if outcome is not None and outcome.problems else 200,
        members=members,
        forms={name for name, kind in FORMS.items() if kind in kinds},
        assessments=bool(members),
        outcome=outcome,
        assessment_names=ASSESSMENT_NAMES,
        today=today().isoformat(),
        **context,
    )
