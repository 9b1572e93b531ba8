"""The one rule for the actor the audit trail records."""

import pytest

from states.actors import ACTOR_LENGTH, check_actor


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("system", "'system' is reserved for the scheduled runs"),
        (" System\t", "'system' is reserved for the scheduled runs"),
        ("ｓｙｓｔｅｍ", "'system' is reserved for the scheduled runs"),  # full-width
        ("x" * (ACTOR_LENGTH + 1), f"is {ACTOR_LENGTH + 1} characters long, at most 64"),
        ("ops\nroot", "holds the control character U+000A"),
        ("ops\x00", "holds the control character U+0000"),
        ("ops\u200broot", "holds the control character U+200B"),  # zero-width space
        ("ops\u2028root", "holds the control character U+2028"),  # line separator
        ("   ", "is empty"),
    ],
)
def test_what_no_operator_may_record(name: str, why: str) -> None:
    with pytest.raises(ValueError) as refused:
        check_actor(name)
    assert str(refused.value) == why


@pytest.mark.parametrize(
    "name", ["Nguyễn Văn An", "chi-uy-b1", "[/ops]", "đ" * ACTOR_LENGTH, "systems", "sys tem"]
)
def test_what_an_operator_may_record(name: str) -> None:
    assert check_actor(f" {name} ") == name


def test_only_the_scheduled_flow_records_system() -> None:
    assert check_actor("system", scheduled=True) == "system"
    with pytest.raises(ValueError):
        check_actor("x" * (ACTOR_LENGTH + 1), scheduled=True)
