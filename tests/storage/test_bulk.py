import gc
import threading

from jtt_tui.storage.bulk import gc_paused


def test_gc_is_paused_inside_and_restored_after():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # still inside the outer pause
    assert gc.isenabled()


def test_gc_stays_off_if_it_was_off():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_pauses_from_threads_restore_the_collector():
    inside = threading.Barrier(2)
    leave = threading.Event()

    def worker() -> None:
        with gc_paused():
            inside.wait()
            leave.wait()

    thread = threading.Thread(target=worker)
    thread.start()
    with gc_paused():
        inside.wait()
    assert not gc.isenabled()  # the worker is still decoding
    leave.set()
    thread.join()
    assert gc.isenabled()
