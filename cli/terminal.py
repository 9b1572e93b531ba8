"""The terminal the commands write on: one console that reads no markup, and a progress bar."""

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

# What the commands print is data (names, notes, file names), never Rich markup.
out = Console(markup=False)


def progress_bar() -> Progress:
    """A progress bar for long work: what is being done, the bar, n/total, time elapsed; gone
    when the work ends (what it did is printed after it)."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    return Progress(*columns, TimeElapsedColumn(), console=out, transient=True)
