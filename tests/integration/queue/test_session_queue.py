"""The test session keeps work queues out of the user's home (tests/conftest.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kampanj.queue.backends import default_url


def test_a_postgresql_databases_default_queue_is_in_the_session_directory(
    private_data_home: Path,
) -> None:
    """Not ``~/.local/share/kampanj/queue.db``: there, and in every process a test starts."""
    expected = f"sqlite:///{private_data_home / 'kampanj' / 'queue.db'}"
    assert default_url("postgresql+psycopg://u@h/db") == expected
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; from kampanj.queue.backends import default_url as d; "
            "print(d('postgresql+psycopg://u@h/db'), os.environ.get('KAMPANJ_QUEUE_URL'))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert child.stdout.split() == [expected, "None"]
