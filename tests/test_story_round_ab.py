"""`bench.story_round_ab`'s summary: medians, B ÷ A per pair, and each tree's on/off ratio."""

from __future__ import annotations

from bench.story_round_ab import summary


def _run(
    default_wall: float, off_wall: float, default_cpu: float, off_cpu: float
) -> dict[str, float]:
    return {
        "default wall": default_wall,
        "off wall": off_wall,
        "default cpu": default_cpu,
        "off cpu": off_cpu,
    }


def test_summary_gives_medians_pair_ratios_and_each_trees_on_off_ratio() -> None:
    a = [_run(8.0, 4.0, 6.0, 3.0), _run(6.0, 3.0, 5.0, 2.0), _run(10.0, 4.0, 7.0, 3.0)]
    b = [_run(4.0, 4.0, 3.0, 3.0), _run(6.0, 3.0, 5.0, 2.0), _run(5.0, 5.0, 7.0, 3.0)]
    lines = summary(a, b)
    assert lines[0] == (
        "clustered wall: median A 8.00 s, B 5.00 s, B/A 0.625 (per pair 0.500, 1.000, 0.500)"
    )
    assert (
        lines[1] == "off wall: median A 4.00 s, B 4.00 s, B/A 1.000 (per pair 1.000, 1.000, 1.250)"
    )
    assert lines[2].startswith("clustered cpu: median A 6.00 s, B 5.00 s, B/A 0.833")
    assert lines[3].startswith("off cpu: median A 3.00 s, B 3.00 s, B/A 1.000")
    assert lines[4] == "A on/off wall ratio: median 2.00 (2.00-2.50)"
    assert lines[5] == "B on/off wall ratio: median 1.00 (1.00-2.00)"
