"""The bench's view of its processes' peak memory and CPU (Linux's /proc)."""

import subprocess
import sys

from devtools.process_peaks import ProcessPeaks

# A child that holds 64 MiB for a moment, busy for a little CPU, then exits.
CHILD = "import time; b = bytearray(64 * 2**20); sum(range(3_000_000)); time.sleep(1.5)"


def test_a_child_process_is_seen_with_its_peak_memory_and_its_cpu() -> None:
    peaks = ProcessPeaks(postgres_port=1)
    before = peaks.cpu()["bench (this process)"]
    peaks.start()
    subprocess.run([sys.executable, "-c", CHILD], check=True)
    peaks.stop()
    children = [kb for role, kb in peaks.peaks.values() if role.endswith(": its processes")]
    assert children and max(children) >= 64 * 1024, peaks.report()
    assert any("bench (this process): its processes" in line for line in peaks.report())
    assert peaks.cpu()["bench (this process)"] - before >= 0.05, "the child's CPU, once reaped"
