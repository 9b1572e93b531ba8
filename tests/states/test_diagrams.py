"""The diagrams in docs/ are the definitions' own."""

from states.diagrams import DOCS, document, mermaid
from states.obligation import OBLIGATION


def test_docs_are_not_stale() -> None:
    assert DOCS.read_text(encoding="utf-8") == document(), "run `python -m states.diagrams`"


def test_every_transition_is_drawn() -> None:
    drawn = mermaid(OBLIGATION)
    for s in OBLIGATION.transitions:
        for source in s.source:
            assert f"{source} --> {s.dest}: {s.trigger}" in drawn
