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
