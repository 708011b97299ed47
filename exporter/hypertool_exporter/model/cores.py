"""How many cores this process may use: the ones it may run on, and no more
than its control group's CPU quota (a container's CPU limit). A second
process helps only where there are two: the long replay's helper
(``sync.replayer``) and the OTLP mapping workers (``http.mapping_pool``) ask
here.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

#: Where a control group's CPU quota is: cgroup v2's ``cpu.max`` ("quota
#: period", or "max period"), else cgroup v1's two files.
CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
CFS_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CFS_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")


def cores() -> int:
    """The cores this process may use: those it may run on, and no more than
    its control group's CPU quota, rounded up."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        count = os.cpu_count() or 1
    quota = cpu_quota()
    return max(1, min(count, math.ceil(quota))) if quota is not None else count


def cpu_quota() -> float | None:
    """The CPUs this process's control group may use, ``None`` for no limit."""
    try:
        quota, period = CPU_MAX.read_text().split()
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int(CFS_QUOTA.read_text())
        return None if quota_us < 0 else quota_us / int(CFS_PERIOD.read_text())
    except (OSError, ValueError, ZeroDivisionError):
        return None


__all__ = ["CFS_PERIOD", "CFS_QUOTA", "CPU_MAX", "cores", "cpu_quota"]
