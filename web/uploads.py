"""Uploading a facts, units or members file: streamed to a temporary file within the settings'
size limit, then imported by the very functions `campaign … import` calls, by the logged-in
account. Facts: a secretary or operator, every row within their unit. Units and members: an
operator, every row within their unit (checked before the whole-tree import runs)."""

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from campaign.access import Viewer
from campaign.intake.member_roster import import_members
from campaign.intake.unit_tree import import_units
from campaign.intake.upload_scope import check_members_within, check_units_within
from campaign.recorded_facts import record_facts
from models.accounts import Role
from models.calendar import today
from models.errors import InputError, Problem
from models.settings import get_settings
from web.page import page
from web.problems import problem_lines
from web.scope import RECORDERS, Reach, reach, require_role
from web.session import checked_form, current_viewer, reading, writing

router = APIRouter()
Who = Annotated[Viewer, Depends(current_viewer)]
ROSTER_KEEPERS = (Role.operator,)
KINDS = {"facts": "kết quả (facts)", "units": "đơn vị (units)", "members": "đảng viên (members)"}
SUFFIXES = {".csv", ".xlsx", ".xlsm"}
CHUNK = 1 << 20
# The form's own fields and the multipart framing around the file.
OVERHEAD = 64 << 10


@router.get("/campaigns/{code}/upload")
def upload_form(request: Request, code: str, who: Who) -> HTMLResponse:
    """The upload form."""
    require_role(who, RECORDERS, "tải tệp lên")
    with reading(request) as session:
        where = reach(session, who, code)
    return _page(request, who, where, [], None)


@router.post("/campaigns/{code}/upload")
async def upload_submit(request: Request, code: str, who: Who) -> HTMLResponse:
    """Import the posted file (`what`: facts, units or members; `file`)."""
    limit = get_settings().max_file_bytes
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > limit + OVERHEAD:  # refused before it is read
        with reading(request) as session:
            where = reach(session, who, code)
        if not length.isdigit():
            message = "Yêu cầu không cho biết độ dài (Content-Length): xin tải lại từ trang này."
            return _page(request, who, where, [message], None, status=411)
        message = f"Tệp lớn hơn giới hạn {limit:,} byte.".replace(",", ".")
        return _page(request, who, where, [message], None, status=413)
    form = await checked_form(request)
    what, upload = str(form.get("what", "")), form.get("file")
    require_role(who, ROSTER_KEEPERS if what in ("units", "members") else RECORDERS, "tải tệp này")
    with reading(request) as session:
        where = reach(session, who, code)
    if what not in KINDS or not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, who, where, ["Chọn loại tệp và tệp cần tải lên."], None, status=400)
    with tempfile.TemporaryDirectory(prefix="campaign-upload-") as folder:
        try:
            path = await _saved(upload, Path(folder), limit)
            done = await run_in_threadpool(_imported, request, what, path, who, where)
        except InputError as refused:
            return _page(request, who, where, problem_lines(refused), None, status=400)
    return _page(request, who, where, [], done)


async def _saved(upload: UploadFile, folder: Path, limit: int) -> Path:
    """The upload written to `folder` under its own name (made safe), at most `limit` bytes."""
    name = re.sub(r"[^\w.\-]", "_", Path(upload.filename or "").name)[-100:] or "tep"
    if Path(name).suffix.lower() not in SUFFIXES:
        message = "is not a CSV or XLSX file (name it .csv or .xlsx)"
        raise InputError([Problem(name, None, None, message)])
    path, written = folder / name, 0
    with path.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            written += len(chunk)
            if written > limit:
                message = f"the file is more than the {limit:,} bytes allowed"
                raise InputError([Problem(name, None, None, message)])
            out.write(chunk)
    return path


def _imported(request: Request, what: str, path: Path, who: Viewer, where: Reach) -> str:
    """The file imported in one transaction (on a worker thread: an import takes seconds)."""
    with writing(request) as session:
        return IMPORTS[what](session, path, who, where)


def _facts(session: Session, path: Path, who: Viewer, where: Reach) -> str:
    done = record_facts(
        where.campaign.code,
        path,
        session=session,
        actor=who.login,
        today=today(),
        within=where.root_path,
    )
    return (
        f"{done.file}: đọc {done.rows} dòng — ghi nhận {done.recorded}, "
        f"{done.already_recorded} dòng đã ghi trước đó."
    )


def _units(session: Session, path: Path, who: Viewer, where: Reach) -> str:
    check_units_within(session, path, where.root_path)
    done = import_units(path, session=session, actor=who.login, on=today())
    return _roster_summary(done.file, done.rows, done.created, done.updated, done.unchanged)


def _members(session: Session, path: Path, who: Viewer, where: Reach) -> str:
    check_members_within(session, path, where.root_path)
    done = import_members(path, session=session, on=today(), actor=who.login)
    return _roster_summary(done.file, done.rows, done.created, done.updated, done.unchanged)


def _roster_summary(file: str, rows: int, created: int, updated: int, unchanged: int) -> str:
    return (
        f"{file}: đọc {rows} dòng — thêm mới {created}, cập nhật {updated}, không đổi {unchanged}."
    )


IMPORTS: dict[str, Callable[[Session, Path, Viewer, Reach], str]] = {
    "facts": _facts,
    "units": _units,
    "members": _members,
}


def _page(
    request: Request,
    who: Viewer,
    where: Reach,
    problems: list[str],
    done: str | None,
    *,
    status: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "upload.html.j2",
        title=f"Tải tệp lên · {where.campaign.code}",
        who=who,
        status_code=status,
        campaign=where.campaign.code,
        campaign_title=where.campaign.title,
        kinds={k: v for k, v in KINDS.items() if k == "facts" or who.role in ROSTER_KEEPERS},
        problems=problems,
        done=done,
    )
