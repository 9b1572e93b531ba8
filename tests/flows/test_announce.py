"""The Prefect events that announce a run's notices (`flows/announce.py`): one per notice or one
per ladder step and level, with ids that make an event sent again the same event."""

import datetime as dt
import uuid

import pytest
from prefect.events import Event
from prefect.settings import PREFECT_SERVER_EVENTS_MAXIMUM_RELATED_RESOURCES, temporary_settings

from campaign.notices import LADDER_TITLES
from flows.announce import announcements
from models.views import NoticeView


def test_notices_are_announced_one_event_each_or_grouped_by_step_and_level() -> None:
    notices = [
        NoticeView(
            unit=f"U{i}",
            unit_name=f"Chi bộ {i}",
            step=step,
            level=level,
            obligations=["self_assess"],
            members=i,
            document=f"notice:U{i}:{step}:{level}:2023-05-20",
        )
        for i, (step, level) in enumerate(
            [("overdue", 0)] * 7 + [("escalation", 1)] * 2 + [("escalation", 2)]
        )
    ]
    day = dt.date(2023, 5, 20)
    each = announcements("T23", day, notices, "notice")
    assert [
        (e["event"], e["resource"]["campaign.unit"], e["resource"]["prefect.resource.name"])
        for e in each
    ] == [(f"campaign.obligation.{n.step}", n.unit, n.unit_name) for n in notices]
    assert {e["payload"]["title"] for e in each} == {
        LADDER_TITLES["overdue"],
        LADDER_TITLES["escalation"],
    }
    # Prefect's maximum of 13 related resources leaves 3 units an event beside the run's own.
    with temporary_settings(updates={PREFECT_SERVER_EVENTS_MAXIMUM_RELATED_RESOURCES: 13}):
        grouped = announcements("T23", day, notices, "step")
    assert [
        (e["resource"]["prefect.resource.id"], [r["campaign.unit"] for r in e["related"]])
        for e in grouped
    ] == [
        ("campaign.T23.step.overdue.0", ["U0", "U1", "U2"]),
        ("campaign.T23.step.overdue.0", ["U3", "U4", "U5"]),
        ("campaign.T23.step.overdue.0", ["U6"]),
        ("campaign.T23.step.escalation.1", ["U7", "U8"]),
        ("campaign.T23.step.escalation.2", ["U9"]),
    ]
    assert [n["document"] for e in grouped for n in e["payload"]["notices"]] == [
        n.document for n in notices
    ]
    for event in grouped:  # what emit_event builds from them is a valid Prefect event
        Event(**event)


@pytest.mark.parametrize("per", ["notice", "step"])
def test_an_announcement_sent_again_is_the_same_event(per: str) -> None:
    """The events of the same pending notices carry the same ids however often they are built
    (Prefect keeps one event per id); other notices, other ids."""

    def notices(*units: str) -> list[NoticeView]:
        return [
            NoticeView(
                unit=u,
                unit_name=f"Chi bộ {u}",
                step="overdue",
                level=0,
                obligations=["self_assess"],
                members=1,
                document=f"notice:{u}:overdue:0:2023-05-20",
            )
            for u in units
        ]

    ids = {n.document: uuid.uuid4() for n in notices("B1", "B2", "B3")}
    day = dt.date(2023, 5, 20)
    first = announcements("T23", day, notices("B1", "B2"), per, ids)  # type: ignore[arg-type]
    again = announcements("T23", day, notices("B1", "B2"), per, ids)  # type: ignore[arg-type]
    other = announcements("T23", day, notices("B1", "B3"), per, ids)  # type: ignore[arg-type]
    assert [e["id"] for e in first] == [e["id"] for e in again]
    assert {e["id"] for e in first} != {e["id"] for e in other}
    if per == "notice":
        assert [e["id"] for e in first] == [ids[n.document] for n in notices("B1", "B2")]
