"""Every file of the hostile corpus through every importer, each in a child
process with a memory limit and a deadline: the answer is a clean import or
an ImportFileError that names the file — never another exception, never
minutes, never hundreds of MB."""

from __future__ import annotations

import multiprocessing
import resource
import sys
import time
from pathlib import Path

import pytest

from tests.support.hostile_corpus import CASES, write_corpus

MEMORY_LIMIT = 400 * 1024 * 1024  # bytes of address space the import may add
DEADLINE_S = 20.0


def _address_space() -> int:
    """Bytes of address space this process uses now (a forked child starts
    with its parent's: a test worker's can be large)."""
    import os

    pages = int(Path("/proc/self/statm").read_text().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _import_in_child(path: str, fmt: str, answer) -> None:  # type: ignore[no-untyped-def]
    limit = _address_space() + MEMORY_LIMIT  # what the import itself may take
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # as in jtt's own process: the interpreter's default recursion limit (a
    # test worker may have raised it — hypothesis does — and a JSON decoder
    # allowed to recurse that deep overflows the C stack instead of raising)
    sys.setrecursionlimit(1000)
    from jtt_tui.storage.importers import read_import
    from jtt_tui.storage.importers.reading import ImportFileError

    try:
        read_import(Path(path), fmt, user_id="alice")  # type: ignore[arg-type]
    except ImportFileError as exc:
        answer.send(("refused", str(exc)))
    except BaseException as exc:  # what the test is looking for
        answer.send(("crashed", f"{type(exc).__name__}: {exc}"[:300]))
    else:
        answer.send(("imported", ""))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    return {p.name: p for p in write_corpus(folder)}


@pytest.mark.parametrize("fmt", ["auto", "bundle", "electron", "tickets-csv"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_hostile_file_is_answered_cleanly_and_quickly(corpus, name, fmt):
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_import_in_child, args=(str(corpus[name]), fmt, send))
    began = time.monotonic()
    child.start()
    ready = receive.poll(DEADLINE_S)
    elapsed = time.monotonic() - began
    if not ready:
        child.kill()
        child.join()
        pytest.fail(f"{name} as {fmt}: no answer within {DEADLINE_S:.0f} s")
    outcome, detail = receive.recv()
    child.join(5)
    assert outcome != "crashed", f"{name} as {fmt}: {detail}"
    if outcome == "refused":
        assert name in detail, detail  # the file is named
        assert "Traceback" not in detail
    assert elapsed < DEADLINE_S
