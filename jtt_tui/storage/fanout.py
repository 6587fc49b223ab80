"""Work on a stream of batches shared with a second process, results in order.

An export of a big store spends most of its time checking each stored record
(pydantic) and writing it out: CPU work in one Python thread. ``in_order``
hands every other batch to a forked helper process, so two cores share it,
while this process alone reads the store (one consistent read: the helper
never touches the database) and writes the output (in the original order:
the bytes are those of doing it all here).

The helper is used only where a fork is safe and worth it: a platform that
has ``fork``, no other thread in this process (a fork copies only the
calling thread: a lock another one held would never be released), and more
than one batch. Anything going wrong in the helper (an error, a crash) makes
this process do that batch itself, so an error is raised here, with its own
words, and nothing is lost or repeated.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TypeVar

A = TypeVar("A")
B = TypeVar("B")

_FAILED = b"!"  # the helper's answer when a batch raised: done here instead
_SIZE = struct.Struct("!Q")


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def in_order(
    work: Callable[[A], B], batches: Iterable[A], *, helper: bool | None = None
) -> Iterator[B]:
    """``work(batch)`` for each batch, in order; every other batch in a
    forked helper process when ``helper`` (default: when a fork is safe)
    and there is more than one batch. Batches and results cross between
    the processes pickled."""
    stream = iter(batches)
    first = next(stream, None)
    if first is None:
        return
    second = next(stream, None)
    if second is None:
        yield work(first)
        return
    if helper is None:
        helper = can_fork()
    if not helper:
        yield work(first)
        yield work(second)
        yield from map(work, stream)
        return
    yield from _with_helper(work, first, second, stream)


def _with_helper(work: Callable[[A], B], first: A, second: A, rest: Iterator[A]) -> Iterator[B]:
    to_helper_r, to_helper_w = os.pipe()
    from_helper_r, from_helper_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the helper: batches in, results out, until the end of the input
        os.close(to_helper_w)
        os.close(from_helper_r)
        _serve(work, to_helper_r, from_helper_w)  # never returns
    os.close(to_helper_r)
    os.close(from_helper_w)
    requests = os.fdopen(to_helper_w, "wb")
    answers = os.fdopen(from_helper_r, "rb")
    alive = True
    try:
        pair: tuple[A, A | None] = (first, second)
        while True:
            mine, theirs = pair
            sent = False
            if theirs is not None and alive:
                sent = alive = _send(requests, pickle.dumps(theirs, pickle.HIGHEST_PROTOCOL))
            yield work(mine)  # (meanwhile the helper does ``theirs``)
            if theirs is not None:
                answer = _receive(answers) if sent else None
                alive = alive and answer is not None
                if answer is None or answer == _FAILED:
                    yield work(theirs)  # its error raised here, in our words
                else:
                    yield pickle.loads(answer)  # (our own process's bytes)
            following = next(rest, None)
            if following is None:
                return
            pair = (following, next(rest, None))
    finally:
        with contextlib.suppress(OSError):
            requests.close()  # the helper's end of input: it leaves
        answers.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _serve(work: Callable[[A], B], requests_fd: int, answers_fd: int) -> None:
    code = 0
    try:
        requests = os.fdopen(requests_fd, "rb")
        answers = os.fdopen(answers_fd, "wb")
        while (request := _receive(requests)) is not None:
            try:
                answer = pickle.dumps(work(pickle.loads(request)), pickle.HIGHEST_PROTOCOL)
            except Exception:
                answer = _FAILED
            if not _send(answers, answer):
                break
    except BaseException:  # (Ctrl-C reaches both processes: the parent reports it)
        code = 1
    finally:
        os._exit(code)  # never the parent's cleanup (its database, its files)


def _send(stream: IO[bytes], data: bytes) -> bool:
    try:
        stream.write(_SIZE.pack(len(data)))
        stream.write(data)
        stream.flush()
    except OSError:  # (the other process is gone)
        return False
    return True


def _receive(stream: IO[bytes]) -> bytes | None:
    header = stream.read(_SIZE.size)
    if len(header) < _SIZE.size:
        return None
    (size,) = _SIZE.unpack(header)
    data = stream.read(size)
    return data if len(data) == size else None
