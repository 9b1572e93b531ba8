"""Mermaid state diagrams of every lifecycle, generated from the definitions.

python -m states.diagrams          # rewrites docs/states.md
"""

from pathlib import Path

from states.lifecycle import Lifecycle
from states.lifecycles import ALL

DOCS = Path(__file__).resolve().parents[1] / "docs" / "states.md"


def mermaid(lifecycle: Lifecycle) -> str:
    """A `stateDiagram-v2` of one lifecycle: every transition, labelled trigger [rules]."""
    lines = ["stateDiagram-v2", f"    [*] --> {lifecycle.initial}"]
    for s in lifecycle.transitions:
        label = s.trigger + (f" [{', '.join(s.conditions)}]" if s.conditions else "")
        lines += [f"    {source} --> {s.dest}: {label}" for source in s.source]
    lines += [f"    {final} --> [*]" for final in sorted(lifecycle.finals)]
    return "\n".join(lines)


def document() -> str:
    """docs/states.md: a diagram and a transition table per lifecycle."""
    parts = [
        "# Lifecycles",
        "",
        "Generated from `states/` by `python -m states.diagrams`; a test fails when stale.",
        "",
    ]
    for lifecycle in ALL:
        parts += [
            f"## {lifecycle.name}",
            "",
            "```mermaid",
            mermaid(lifecycle),
            "```",
            "",
            f"States: {', '.join(f'`{s}`' for s in lifecycle.state_names)}.",
            "",
            "| trigger | from | to | rules | effects |",
            "| --- | --- | --- | --- | --- |",
        ]
        parts += [
            f"| `{s.trigger}` | {', '.join(s.source)} | {s.dest} | {', '.join(s.conditions)} "
            f"| {', '.join(s.after)} |"
            for s in lifecycle.transitions
        ]
        parts.append("")
    return "\n".join(parts)


if __name__ == "__main__":
    DOCS.parent.mkdir(exist_ok=True)
    DOCS.write_text(document(), encoding="utf-8")
    print(f"wrote {DOCS}")
