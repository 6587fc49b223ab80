"""Writing user files safely: atomically, readable only by the user."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) as 0700 if missing."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@contextmanager
def private_file_writer(path: Path) -> Iterator[BinaryIO]:
    """A binary stream whose content replaces ``path`` atomically (temp file,
    fsync, rename) with mode 0600 when the block ends without an error; on an
    error the temp file goes and ``path`` is untouched. A crash leaves the
    old file or the new one, never half of either."""
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_private_file(path: Path, content: bytes) -> None:
    """Write ``content`` atomically with mode 0600 (see :func:`private_file_writer`)."""
    with private_file_writer(path) as handle:
        handle.write(content)
