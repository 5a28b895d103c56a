"""How much of the machine a benchmark really had (shared by the benchmarks in bench/).

On a shared virtual machine the same code runs at very different speeds: the hypervisor
gives CPU time to other guests (*steal*) and neighbours load the host. Each benchmark
reports a fixed pure-Python loop's time (``cpu_loop_s``, measured just before) and the
share of CPU time stolen while it ran (``cpu_steal_pct``, from ``/proc/stat``), so figures
from different runs can be read side by side.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path


def cpu_loop_seconds() -> float:
    """Seconds a fixed pure-Python loop takes (lower is a faster, quieter machine)."""
    started = time.perf_counter()
    total = 0
    for number in range(10_000_000):
        total += number
    return time.perf_counter() - started


def cpu_ticks() -> tuple[int, int]:
    """(steal, total) CPU ticks since boot from /proc/stat; (0, 0) where unavailable."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0, 0
    ticks = [int(value) for value in fields]
    return (ticks[7] if len(ticks) > 7 else 0), sum(ticks)


@dataclass(frozen=True, kw_only=True, slots=True)
class StealMeter:
    """CPU ticks at a starting point; `percent` reports the stolen share since then."""

    steal: int
    total: int

    @classmethod
    def start(cls) -> StealMeter:
        steal, total = cpu_ticks()
        return cls(steal=steal, total=total)

    def percent(self) -> float:
        """Stolen ticks as a percentage of all ticks since `start` (0.0 if none elapsed)."""
        steal, total = cpu_ticks()
        elapsed = total - self.total
        return round(100 * (steal - self.steal) / elapsed, 1) if elapsed > 0 else 0.0
