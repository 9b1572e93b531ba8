"""The garbage collector's pause around large imports."""

import gc

import pytest

from models.bulk import without_gc_pauses


def test_the_collector_is_paused_during_the_call_and_resumes_after_it() -> None:
    seen = []

    @without_gc_pauses
    def work(x: int) -> int:
        seen.append(gc.isenabled())
        return x + 1

    assert gc.isenabled()
    assert work(1) == 2
    assert seen == [False]
    assert gc.isenabled()


def test_the_collector_resumes_when_the_call_raises() -> None:
    @without_gc_pauses
    def refuse() -> None:
        raise ValueError("bad row")

    with pytest.raises(ValueError, match="bad row"):
        refuse()
    assert gc.isenabled()


def test_a_collector_paused_by_the_caller_stays_paused() -> None:
    @without_gc_pauses
    def work() -> bool:
        return gc.isenabled()

    gc.disable()
    try:
        assert work() is False
        assert not gc.isenabled()
    finally:
        gc.enable()
