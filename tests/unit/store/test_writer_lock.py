"""store/writer_lock.FairLock: waiting threads get the lock in arrival order; the owner
may re-enter."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kampanj.store.writer_lock import FairLock


def _until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition()`` until it holds (the lock has no hook to wait on)."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.001)


def _queued(lock: FairLock) -> int:
    return lock.waiting() + 1  # the holder and every waiting thread


def test_waiting_threads_get_the_lock_in_arrival_order() -> None:
    lock = FairLock()
    order: list[int] = []

    def take(number: int) -> None:
        with lock:
            order.append(number)

    threads = []
    with lock:
        for number in range(5):
            thread = threading.Thread(target=take, args=(number,))
            thread.start()
            threads.append(thread)
            _until(lambda n=number: _queued(lock) == n + 2, f"thread {number} queued")
        assert order == []  # all of them wait while the lock is held
    for thread in threads:
        thread.join(timeout=10)
    assert order == [0, 1, 2, 3, 4]


def test_the_owner_re_enters_and_releases_on_the_last_exit() -> None:
    lock = FairLock()
    taken = threading.Event()

    def take() -> None:
        with lock:
            taken.set()

    with lock:
        with lock:
            other = threading.Thread(target=take)
            other.start()
            _until(lambda: _queued(lock) == 2, "the other thread queued")
        assert not taken.is_set()  # still held once
    other.join(timeout=10)
    assert taken.is_set()


def test_waiting_counts_the_threads_queued_behind_the_holder() -> None:
    lock = FairLock()
    assert lock.waiting() == 0
    with lock:
        assert lock.waiting() == 0  # the holder itself is not waiting
        threads = [
            threading.Thread(target=lambda: lock.__enter__() or lock.__exit__(None, None, None))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        _until(lambda: lock.waiting() == 2, "two threads queued")
    for thread in threads:
        thread.join(timeout=10)
    assert lock.waiting() == 0


def test_turns_waited_counts_every_thread_that_had_to_queue() -> None:
    lock = FairLock()
    with lock:
        pass
    assert lock.turns_waited() == 0  # an uncontended turn
    with lock:
        threads = [threading.Thread(target=_take_once, args=(lock,)) for _ in range(3)]
        for thread in threads:
            thread.start()
        _until(lambda: lock.waiting() == 3, "three threads queued")
    for thread in threads:
        thread.join(timeout=10)
    assert lock.turns_waited() == 3


def _take_once(lock: FairLock) -> None:
    with lock:
        pass
