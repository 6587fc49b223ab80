"""Field encryption benchmark: what sealing costs on SQLite.

    python -m bench.encryption [--sessions 20000] [--repeat 5]

Loads every session of a store written in clear and of the same store
written with encryption on (description and notes sealed), and times
`jtt keys init`'s work (re-encrypting every record in place) and a rotation.
Prints figures and ratios; it is not a test (these machines are shared and noisy).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.datasets import NOW, make_sessions, median_ms
from jtt_tui.domain.models import DataBundle
from jtt_tui.services.encryption import bring_in_line
from jtt_tui.storage import SQLiteStore
from jtt_tui.storage.crypto import FieldCipher, KeyProvider, key_id_of, new_key
from jtt_tui.storage.kinds import SESSIONS


def _timed(run) -> tuple[float, object]:
    started = time.perf_counter()
    result = run()
    return (time.perf_counter() - started) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sessions = make_sessions(args.sessions)
    for n, session in enumerate(sessions):
        session.description = f"Work on the client's staging box #{n}"
        session.notes = "Discussed the rollout with the customer; credentials in the vault."
    first, second = new_key(), new_key()
    provider = KeyProvider([first, second], keyring_lookup=None)
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(Path(folder) / "bench.db", user_id="bench")
        store.connect()
        store.import_all(DataBundle(exported_at=NOW, user_id="bench", sessions=sessions))
        plain = median_ms(lambda: store._load_all(SESSIONS), args.repeat)
        store.compact()  # the sizes compare files with an empty write-ahead log
        size_plain = Path(folder, "bench.db").stat().st_size

        cipher = FieldCipher(provider, key_id_of(first))
        init_ms, count = _timed(lambda: bring_in_line("bench", store, cipher))
        store.compact()
        sealed = median_ms(lambda: store._load_all(SESSIONS), args.repeat)
        size_sealed = Path(folder, "bench.db").stat().st_size

        rotated = FieldCipher(provider, key_id_of(second))
        rotate_ms, _ = _timed(lambda: bring_in_line("bench", store, rotated))
        store.disconnect()
    n = args.sessions
    print(f"{n:,} sessions, 2 sealed fields each (SQLite, synchronous=FULL)")
    print(f"  load all, in clear:       {plain:8.0f} ms  ({plain * 1000 / n:.1f} µs/session)")
    print(f"  load all, encrypted:      {sealed:8.0f} ms  ({sealed * 1000 / n:.1f} µs/session)")
    print(f"  ratio encrypted / clear:  {sealed / plain:8.2f}x")
    print(
        f"  keys init ({count:,} rewritten): {init_ms:6.0f} ms  "
        f"({n / init_ms * 1000:,.0f} records/s)"
    )
    print(
        f"  keys rotate:              {rotate_ms:8.0f} ms  ({n / rotate_ms * 1000:,.0f} records/s)"
    )
    print(f"  file size:                {size_plain / 1e6:8.1f} MB -> {size_sealed / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
