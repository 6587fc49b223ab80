"""The log file (redacted, private, rotating) and the storage metrics
(nearest-rank percentiles over a sliding window)."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from jtt_tui.domain import Ticket
from jtt_tui.logs import setup_logging
from jtt_tui.services.metrics import StorageMetrics, percentile
from jtt_tui.services.storage_service import StorageService
from jtt_tui.storage import SQLiteStore
from jtt_tui.storage.errors import ConflictError

SECRET = "Zebra-Crossing-42"


@pytest.fixture
def log_file(tmp_path, monkeypatch):
    monkeypatch.setenv("JTT_LOG_DIR", str(tmp_path / "logs"))
    path = setup_logging()
    yield path
    root = logging.getLogger("jtt_tui")
    for handler in list(root.handlers) + list(logging.getLogger("pymongo").handlers):
        if handler.__class__.__name__ == "PrivateRotatingFileHandler":
            handler.close()
            root.removeHandler(handler)
            logging.getLogger("pymongo").removeHandler(handler)


def _flush() -> None:
    for handler in logging.getLogger("jtt_tui").handlers:
        handler.flush()


def test_the_log_is_private_and_redacted(log_file: Path):
    log = logging.getLogger("jtt_tui.test")
    log.warning("connecting to mongodb://tracker:%s@db.example:27017 failed", SECRET)
    try:
        raise RuntimeError(f"auth failed for password={SECRET}")
    except RuntimeError:
        log.exception("it broke")
    logging.getLogger("pymongo.serverSelection").warning("driver says password=%s", SECRET)
    _flush()
    text = log_file.read_text()
    assert "tracker:***@db.example" in text and "RuntimeError" in text
    assert "driver says" in text
    assert SECRET not in text
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_file.parent.stat().st_mode) == 0o700


def test_the_log_rotates_and_every_file_is_private(log_file: Path):
    handler = next(h for h in logging.getLogger("jtt_tui").handlers if h.__class__.__name__ ==
                   "PrivateRotatingFileHandler")  # fmt: skip
    handler.maxBytes = 2_000
    for n in range(200):
        logging.getLogger("jtt_tui.test").info("line %d %s", n, "x" * 40)
    _flush()
    files = sorted(log_file.parent.glob("jtt.log*"))
    assert len(files) == 4  # the file and 3 rotated ones
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert all(f.stat().st_size <= 2_100 for f in files)


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    assert percentile([1.0, 2.0, 3.0, 100.0], 95) == 100.0  # not an average


def test_metrics_slide_over_the_window():
    now = [0.0]
    metrics = StorageMetrics(window_s=300, clock=lambda: now[0])
    for n in range(10):
        metrics.record(n / 1000)  # 0..9 ms
    metrics.record(0.5, "network")
    snap = metrics.snapshot()
    assert (snap.operations, snap.errors) == (11, {"network": 1})
    assert (snap.p50_ms, snap.p95_ms) == (5.0, 500.0)
    now[0] = 301.0
    metrics.record(0.002)
    later = metrics.snapshot()
    assert (later.operations, later.errors, later.p50_ms) == (1, {}, 2.0)
    assert "1 operations in the last 5 min" in later.describe()


def test_the_service_counts_its_calls_and_failures(tmp_path):
    store = SQLiteStore(tmp_path / "jtt.db", user_id="u")
    store.connect()
    service = StorageService(store)
    service.get_sessions()
    service.save_ticket(Ticket(ticket_number="WEB-1"))
    with pytest.raises(ConflictError):
        service.save_ticket(Ticket(ticket_number="WEB-1"))  # stale: it exists already
    snap = service.info().metrics
    assert snap is not None and snap.operations >= 3
    assert snap.errors == {"conflict": 1}
    store.disconnect()


def test_cli_failures_are_logged(tmp_path):
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "JTT_CONFIG_DIR": str(tmp_path / "c"),
        "JTT_DATA_DIR": str(tmp_path / "d"),
        "JTT_LOG_DIR": str(tmp_path / "logs"),
        "DEFAULT_USER_ID": "u",
    }
    result = subprocess.run(
        [sys.executable, "-m", "jtt_tui", "invoice", "show", "NOPE-1"],
        capture_output=True, text=True, env=env, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "no invoice NOPE-1" in (tmp_path / "logs" / "jtt.log").read_text()
