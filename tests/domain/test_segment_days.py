"""A ticket's segments by local day: split at midnight, newest day first."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from jtt_tui.domain.models import Segment
from jtt_tui.domain.segment_days import day_pieces, segment_days

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 3, 12, 14, 30, tzinfo=UTC)


def _at(day: int, hour: int, minute: int = 0, tz=BERLIN) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=tz).astimezone(UTC)


def _summary(days) -> list[tuple[date, timedelta, list[tuple[int, bool]]]]:
    return [(d.day, d.total, [(p.index, p.last) for p in d.pieces]) for d in days]


def test_a_segment_across_local_midnight_shows_on_both_days():
    # 22:00 on the 10th to 01:30 on the 11th, Berlin time (21:00-00:30 UTC:
    # one UTC day would put it all on the 10th)
    segment = Segment(start=_at(10, 22), end=_at(11, 1, 30))
    days = segment_days([segment], NOW, BERLIN)
    assert _summary(days) == [
        (date(2025, 3, 11), timedelta(hours=1, minutes=30), [(0, True)]),
        (date(2025, 3, 10), timedelta(hours=2), [(0, False)]),
    ]
    before, after = days[1].pieces[0], days[0].pieces[0]
    assert before.end == after.start == _at(11, 0)  # cut at local midnight


def test_a_running_segment_grows_on_its_last_day_only():
    segment = Segment(start=_at(11, 23))
    now = _at(12, 0, 45)
    days = segment_days([segment], now, BERLIN)
    assert [d.total for d in days] == [timedelta(minutes=45), timedelta(hours=1)]
    assert days[0].running is not None and days[0].running.end == now
    assert days[1].running is None  # the day before is closed at 24:00


def test_a_segment_ending_at_midnight_does_not_make_an_empty_next_day():
    segment = Segment(start=_at(10, 22), end=_at(11, 0))
    pieces = day_pieces(segment, 0, NOW, BERLIN)
    assert [(p.day, p.length, p.last) for p in pieces] == [
        (date(2025, 3, 10), timedelta(hours=2), True)
    ]


def test_a_segment_over_two_midnights_has_a_full_day_in_between():
    segment = Segment(start=_at(8, 20), end=_at(10, 2))
    pieces = day_pieces(segment, 3, NOW, BERLIN)
    assert [(p.day, p.length, p.last, p.index) for p in pieces] == [
        (date(2025, 3, 8), timedelta(hours=4), False, 3),
        (date(2025, 3, 9), timedelta(hours=24), False, 3),
        (date(2025, 3, 10), timedelta(hours=2), True, 3),
    ]


def test_a_daylight_saving_day_is_23_hours_long():
    # Berlin moved its clocks forward on 2025-03-30: that day has 23 hours
    start = datetime(2025, 3, 29, 12, 0, tzinfo=BERLIN).astimezone(UTC)
    end = datetime(2025, 3, 31, 12, 0, tzinfo=BERLIN).astimezone(UTC)
    pieces = day_pieces(Segment(start=start, end=end), 0, end, BERLIN)
    assert [p.length for p in pieces] == [
        timedelta(hours=12),
        timedelta(hours=23),
        timedelta(hours=12),
    ]


def test_segments_group_by_day_in_segment_order_and_days_without_time_are_absent():
    segments = [
        Segment(start=_at(9, 9), end=_at(9, 10)),  # 0
        Segment(start=_at(11, 8), end=_at(11, 9)),  # 1
        Segment(start=_at(9, 14), end=_at(9, 14, 30)),  # 2 (added later, earlier day)
        Segment(start=_at(11, 23), end=_at(12, 1)),  # 3, across midnight
    ]
    days = segment_days(segments, NOW, BERLIN)
    assert _summary(days) == [
        (date(2025, 3, 12), timedelta(hours=1), [(3, True)]),
        (date(2025, 3, 11), timedelta(hours=2), [(1, True), (3, False)]),
        # the 10th has no time: no day for it
        (date(2025, 3, 9), timedelta(hours=1, minutes=30), [(0, True), (2, True)]),
    ]


def test_no_segments_no_days():
    assert segment_days([], NOW, BERLIN) == []
