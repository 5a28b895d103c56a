"""Running a chunk producer in a second process, so parsing overlaps database writes.

Imports spend about half their time turning text into values and half writing them; on a
machine with two or more cores a producer process parses chunk k+1 while the caller writes
chunk k. The producer is a module-level function taking one picklable argument, and its
items must pickle.

The child is forked where the platform can (it starts at once and inherits the imported
modules; it only reads the file and computes, touching no lock another thread of the parent
could hold), and spawned elsewhere.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from kampanj.errors import UserError

T = TypeVar("T")
A = TypeVar("A")

QUEUE_DEPTH = 4  # chunks parsed ahead of the writer: bounds memory
_POLL_SECONDS = 1.0  # how often a waiting consumer checks that the producer still lives


@dataclass(frozen=True, slots=True)
class _Done:
    """The producer finished normally."""


@dataclass(frozen=True, slots=True)
class _Failed:
    """The producer raised: a user error is re-raised as its own class in the consumer."""

    message: str
    user_error: type[UserError] | None


# Below this file size a second process costs more to start than it saves.
BACKGROUND_MIN_BYTES = 4 * 1024 * 1024


def worth_a_second_process(size_bytes: int) -> bool:
    """Whether parsing a file of ``size_bytes`` in a second process would pay off: the file
    is large enough and the second process would run on a core of its own."""
    return size_bytes >= BACKGROUND_MIN_BYTES and (os.cpu_count() or 1) > 1


def background_chunks(produce: Callable[[A], Iterator[T]], argument: A) -> Iterator[T]:
    """The items ``produce(argument)`` yields, computed ahead in a child process."""
    context: Any = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    channel: multiprocessing.Queue[object] = context.Queue(maxsize=QUEUE_DEPTH)
    process = context.Process(target=_run_producer, args=(produce, argument, channel), daemon=True)
    process.start()
    try:
        while True:
            try:
                item = channel.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if not process.is_alive():
                    raise RuntimeError(
                        f"the import's parsing process ended unexpectedly (exit code "
                        f"{process.exitcode})"
                    ) from None
                continue
            if isinstance(item, _Done):
                return
            if isinstance(item, _Failed):
                if item.user_error is not None:
                    raise item.user_error(item.message)
                raise RuntimeError(f"the import's parsing process failed:\n{item.message}")
            yield item  # type: ignore[misc]
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        channel.close()


def _run_producer(
    produce: Callable[[A], Iterator[object]],
    argument: A,
    channel: multiprocessing.Queue[object],
) -> None:
    try:
        for item in produce(argument):
            channel.put(item)
    except UserError as error:
        channel.put(_Failed(str(error), user_error=type(error)))
        return
    except BaseException:
        channel.put(_Failed(traceback.format_exc(), user_error=None))
        return
    channel.put(_Done())
