"""bench/batch_campaign.py at a tiny size: it runs, and the engine and the hand-written SQL
script reach the same end state, so neither the benchmark nor its yardstick can rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "batch_campaign.py"


@pytest.mark.slow
def test_engine_and_hand_script_reach_the_same_end_state() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--people", "2000", "--chunk-size", "700"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["end_states_equal"] is True, figures["differing"]
    assert figures["backend"] == "sqlite"
    # Every step left a trace: 5 activities per person who took all five, minus the
    # Lead Status changes skipped by the Do Nothing choice or equal to the old value.
    rows = figures["rows"]
    assert rows["people"] == 2000
    assert 0 < figures["qualified"] < 2000
    assert rows["list_member"] == rows["campaign_member"] == figures["qualified"]
    assert 4 * figures["qualified"] < rows["activities"] <= 5 * figures["qualified"]
    assert set(figures["steps_s"]) == {"s1", "s2", "s3", "s4", "s5"}


@pytest.mark.slow
def test_with_an_executable_child_both_reach_the_same_end_state() -> None:
    """--with-executable: step 3 executes a child (EXE-6, EXE-8..11, EXE-16); the hand
    script writes the Execute Campaign activities, the child's membership and its steps."""
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--people",
            "2000",
            "--chunk-size",
            "700",
            "--with-executable",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["end_states_equal"] is True, figures["differing"]
    assert figures["with_executable"] is True
    rows, qualified = figures["rows"], figures["qualified"]
    assert rows["list_member"] == qualified
    # The child's filters reject some of the cohort (Qualified false), not all of it.
    in_child = rows["campaign_member"] - qualified
    assert 0 < in_child < qualified
    # Parent: 22, 13 (Job Title), 901, 24, 46 per person; child: at most 13 and 22 each.
    assert 5 * qualified + in_child <= rows["activities"] <= 5 * qualified + 2 * in_child
    assert set(figures["steps_s"]) == {"s1", "s2", "s3", "s4", "s5"}
