"""Running the real `campaign` console script in a subprocess."""

import os
import subprocess
import sys
from pathlib import Path

from prefect.settings import PREFECT_API_URL

CAMPAIGN = str(Path(sys.executable).parent / "campaign")


def run_cli(
    *args: str | Path,
    database_url: str,
    cwd: Path | None = None,
    timeout: float = 300,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `campaign ARGS` against `database_url` (`stdin` piped in, e.g. a password); return
    its exit code and output."""
    env = {**os.environ, "CAMPAIGN_DATABASE_URL": database_url, "COLUMNS": "200"}
    if api := PREFECT_API_URL.value():
        # The session's Prefect server (tests/flows' harness): a `campaign run` started without
        # one starts a temporary server of its own, seconds per command.
        env["PREFECT_API_URL"] = str(api)
    return subprocess.run(
        [CAMPAIGN, *map(str, args)],
        capture_output=True,
        input=stdin,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
