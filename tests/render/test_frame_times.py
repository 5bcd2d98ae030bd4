"""What the show tells of its frame times: the last 10 s's rate and percentiles, and late frames."""

from __future__ import annotations

from installation.render.loop import FrameTimes


def test_the_last_ten_seconds_and_the_late_frames() -> None:
    times = FrameTimes(refresh=60.0, window=10.0)
    now = 0.0
    for index in range(1200):  # 600 frames of 1/60 s, then 600 of 1/30 s with every 50th at 0.2 s
        seconds = 1 / 60 if index < 600 else (0.2 if index % 50 == 0 else 1 / 30)
        now += seconds
        times.add(seconds, now)
    told = times.report()
    assert told["late_frames"] == 12  # only the 0.2 s frames are longer than two refresh periods
    assert told["p50_ms"] == round(1000 / 30, 2)
    assert told["p99_ms"] == 200.0
    assert 22.0 < told["fps"] < 30.0  # the last 10 s only: 1/30 s frames and the long ones (4 %)


def test_before_the_first_frame_it_tells_zeros() -> None:
    assert FrameTimes().report() == {"fps": 0.0, "p50_ms": 0.0, "p99_ms": 0.0, "late_frames": 0}
