"""Writing a campaign's issued documents to a folder an office can browse: one folder per unit,
each document as the Markdown the engine stored when it issued it, and an index."""

from collections import defaultdict
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.documents import Document
from models.plans import get_campaign
from models.units import Unit


def write_documents(session: Session, code: str, out: Path) -> list[Path]:
    """Write every stored document of campaign `code` under `out`; returns the files written."""
    campaign = get_campaign(session, code)
    query = (
        select(
            Document.key,
            Document.title,
            Document.issued_on,
            Document.markdown,
            Unit.code,
        )
        .outerjoin(Unit, Unit.id == Document.unit_id)
        .where(Document.campaign_id == campaign.id)
        .order_by(Document.issued_on, Unit.path, Document.key)
    )
    written: list[Path] = []
    by_unit: dict[str, list[tuple[str, Path]]] = defaultdict(list)
    for key, title, issued_on, markdown, unit in session.execute(query):
        folder = out / (unit or campaign.code)
        folder.mkdir(parents=True, exist_ok=True)
        # notice:UNIT:STEP:LEVEL:DATE → 2023-05-20-overdue-0.md (unique per unit and day)
        step = key.split(":", 2)[-1].rsplit(":", 1)[0].replace(":", "-")
        path = folder / f"{issued_on:%Y-%m-%d}-{step}.md"
        path.write_text(markdown, encoding="utf-8")
        written.append(path)
        by_unit[unit or campaign.code].append((f"{issued_on:%d/%m/%Y} — {title}", path))
    written.append(_index(out, campaign.code, campaign.title, by_unit))
    return written


def _index(out: Path, code: str, title: str, by_unit: dict[str, list[tuple[str, Path]]]) -> Path:
    lines = [f"# {code} — {title}", ""]
    for unit, entries in sorted(by_unit.items()):
        lines += [f"## {unit}", ""]
        lines += [f"- [{label}]({path.relative_to(out).as_posix()})" for label, path in entries]
        lines.append("")
    out.mkdir(parents=True, exist_ok=True)
    index = out / "index.md"
    index.write_text("\n".join(lines), encoding="utf-8")
    return index
