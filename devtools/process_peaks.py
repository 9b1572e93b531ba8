"""The peak memory of a bench's processes: this one, the servers and workers it starts, and
every process they start, read from Linux's /proc."""

import os
import threading
from collections import defaultdict
from pathlib import Path


class ProcessPeaks(threading.Thread):
    """The peak RSS (VmHWM) of every process of the bench, read from /proc every half second:
    the processes watched (this one, the Prefect server, the workers, the PostgreSQL server)
    and their descendants, each counted under the nearest watched ancestor."""

    def __init__(self, postgres_port: int) -> None:
        super().__init__(daemon=True)
        self.roots: dict[int, str] = {os.getpid(): "bench (this process)"}
        self.peaks: dict[int, tuple[str, int]] = {}  # pid: role, kB
        self._port = f"\0-p\0{postgres_port}\0".encode()
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(0.5):
            self.sample()

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.sample()

    def sample(self) -> None:
        parents, names, hwm = {}, {}, {}
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                lines = dict(ln.split(":", 1) for ln in status.read_text().splitlines())
            except (OSError, ValueError):  # gone meanwhile
                continue
            pid = int(status.parent.name)
            parents[pid], names[pid] = int(lines["PPid"]), lines["Name"].strip()
            if "VmHWM" in lines:
                hwm[pid] = int(lines["VmHWM"].split()[0])
        for pid, name in names.items():
            if pid not in self.roots:
                self._adopt(pid, name, parents[pid], names.get(parents[pid], ""))
        for pid, kb in hwm.items():
            if (role := self._role(pid, parents)) is not None:
                self.peaks[pid] = (role, max(kb, self.peaks.get(pid, ("", 0))[1]))

    def _adopt(self, pid: int, name: str, parent: int, parent_name: str) -> None:
        """Watch the Prefect server (a child of this process) and the PostgreSQL server."""
        if parent != os.getpid() and not (name == "postgres" and parent_name != "postgres"):
            return
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return
        if parent == os.getpid() and b"server\0start" in command:
            self.roots[pid] = "prefect server"
        elif name == "postgres" and self._port in command + b"\0":
            self.roots[pid] = "postgresql server"

    def _role(self, pid: int, parents: dict[int, int]) -> str | None:
        at = pid
        while at not in self.roots:
            if (at := parents.get(at, 0)) <= 1:
                return None
        return self.roots[at] if at == pid else f"{self.roots[at]}: its processes"

    def report(self) -> list[str]:
        by_role: dict[str, list[int]] = defaultdict(list)
        for role, kb in self.peaks.values():
            by_role[role].append(kb)
        return [
            f"  {role:<42} {max(kbs) / 1024:8.1f} MiB"
            + (f"  (the largest of {len(kbs)} processes)" if len(kbs) > 1 else "")
            for role, kbs in sorted(by_role.items())
        ]

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each watched process and its descendants, those it has
        waited for included (its cutime and cstime), by role."""
        ticks, parents, own, reaped = os.sysconf("SC_CLK_TCK"), {}, {}, {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
            pid = int(stat.parent.name)
            parents[pid] = int(fields[1])
            own[pid] = (int(fields[11]) + int(fields[12])) / ticks
            reaped[pid] = (int(fields[13]) + int(fields[14])) / ticks
        used: dict[str, float] = {}
        for pid, seconds in own.items():
            at = pid
            while at not in self.roots and at > 1:
                at = parents.get(at, 0)
            if at in self.roots:
                role = self.roots[at]
                used[role] = used.get(role, 0.0) + seconds + reaped[pid]
        return used
