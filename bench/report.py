"""Turn the runs' JSON results into the one table `make bench` prints.

Each row is one figure of one scenario: the median over the runs, min–max, the number
of runs that produced it, the issue's target and whether the median meets it. A run
that crashed contributes no figure; its error is listed under the table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.measure import Summary, summarise

Result = dict[str, Any]
Extract = Callable[[Result], float | None]
Check = Callable[[float, dict[str, Summary | None]], bool | None]


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table: where its values come from and the target they should meet."""

    scenario: str
    key: str
    label: str
    unit: str
    extract: Extract
    fmt: str = "{:.2f}"
    target: str = ""
    check: Check | None = None


def _get(*path: str) -> Extract:
    def extract(result: Result) -> float | None:
        value: Any = result
        for key in path:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return float(value) if isinstance(value, int | float) else None

    return extract


def _first(*keys: str) -> Extract:
    """The first of `keys` the result has (a killed run keeps only its earlier figures)."""
    extracts = [_get(key) for key in keys]

    def extract(result: Result) -> float | None:
        return next((v for e in extracts if (v := e(result)) is not None), None)

    return extract


def _ok_round(*path: str) -> Callable[[Result], Result | None]:
    """The round's result when it ran and did not crash, else None."""

    def pick(result: Result) -> Result | None:
        value: Any = result
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, dict) or value.get("error") or value.get("skipped"):
            return None
        return value

    return pick


def _from_round(path: tuple[str, ...], compute: Callable[[Result], float | None]) -> Extract:
    pick = _ok_round(*path)

    def extract(result: Result) -> float | None:
        picked = pick(result)
        return None if picked is None else compute(picked)

    return extract


def _crashed(path: tuple[str, ...]) -> Extract:
    """The wall time of a round that raised out of run_once, else None."""

    def extract(result: Result) -> float | None:
        value: Any = result
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, dict) and value.get("error"):
            return float(value["wall"])
        return None

    return extract


def _items_per_s(r: Result) -> float | None:
    stored = r.get("db", {}).get("items_stored")
    return stored / r["wall"] if stored and r["wall"] else None


def _last_email_after(r: Result) -> float | None:
    last = r.get("sink", {}).get("last_accept_at")
    return last - r["started_at"] if last else None


def _sample(r: Result, which: str) -> dict[str, float] | None:
    """The daemon's first sample (round 10), or its last if it reached the last round."""
    samples = r.get("samples") or []
    if not samples:
        return None
    if which == "first":
        return dict(samples[0]) if samples[0]["round"] == 10 else None
    last = samples[-1]
    return dict(last) if last["round"] >= r.get("rounds_wanted", 0) else None


# The daemon's samples: `rss_mb` is the PSS of the whole tree, `own_rss_mb` the RSS of
# the service process. Growth is judged on the latter: the tree also holds the parse
# workers, which are recycled every few hundred parses by design (and replaced after a
# deadline), so whether they are alive at a sample moves the tree by ~100 MB either way.
OWN = "own_rss_mb"
TREE = "rss_mb"


def _rss_at(which: str, key: str = TREE) -> Extract:
    def extract(r: Result) -> float | None:
        sample = _sample(r, which)
        return None if sample is None or key not in sample else float(sample[key])

    return extract


def _rss_growth(r: Result) -> float | None:
    first, last = _sample(r, "first"), _sample(r, "last")
    if first is None or last is None or OWN not in first or OWN not in last:
        return None
    return float(last[OWN] - first[OWN])


def _unpolled(n: int) -> Extract:
    def extract(r: Result) -> float | None:
        ok = r.get("cold", {}).get("db", {}).get("sources_ok")
        return None if ok is None else float(n - ok)

    return extract


def _rss_slope(r: Result) -> float | None:
    """Least-squares RSS growth of the service process in MB per 100 rounds, all samples."""
    samples = [s for s in r.get("samples") or [] if OWN in s]
    if len(samples) < 3:
        return None
    xs = [float(s["round"]) for s in samples]
    ys = [float(s[OWN]) for s in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return (
        None
        if not var
        else 100 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var
    )


def _le(limit: float) -> Check:
    return lambda value, _: value <= limit


def _ge(limit: float) -> Check:
    return lambda value, _: value >= limit


def _eq(expected: float) -> Check:
    return lambda value, _: value == expected


def _equals(key: str) -> Check:
    def check(value: float, figures: dict[str, Summary | None]) -> bool | None:
        other = figures.get(key)
        return None if other is None else value == other.median

    return check


def _cold_vs_floor(value: float, figures: dict[str, Summary | None]) -> bool | None:
    floor = figures.get("floor.wall")
    return None if floor is None else value <= min(10.0, 1.3 * floor.median)


def rows(knobs: dict[str, Any]) -> list[Row]:
    """The table's rows for these knobs (N, K, ... appear in the labels)."""
    n, m, new_n, k = knobs["n"], knobs["m"], knobs["new_n"], knobs["k"]
    cold = ("cold",)
    idle = ("idle",)
    rounds = knobs["daemon_rounds"]
    return [
        Row("1 cold", "cold.wall", f"wall, N={n}×{m}, {knobs['latency_ms']:g} ms", "s",
            _from_round(cold, lambda r: r["wall"]),
            target="≤ 10 s and ≤ 1.3 × floor", check=_cold_vs_floor),
        Row("1 cold", "cold.crash", "wall until run_once raised (crashed runs)", "s",
            _crashed(cold), target="no crash", check=lambda *_: False),
        Row("1 cold", "cold.cpu", "CPU (the process tree)", "s",
            _from_round(cold, lambda r: r["cpu"])),
        Row("1 cold", "cold.items_s", "items/s (stored ÷ wall)", "items/s",
            _from_round(cold, _items_per_s), fmt="{:.0f}"),
        Row("1 cold", "cold.ratio", "wall ÷ parse floor", "×", lambda _: None,
            target="≤ 1.3", check=_le(1.3)),
        Row("1 cold", "cold.ratio_20", "wall ÷ parse floor (issue 20)", "×", lambda _: None,
            target="≤ 3", check=_le(3.0)),
        Row("1 cold", "cold.cpu_ratio", "CPU ÷ parse floor CPU", "×", lambda _: None),
        Row("1 cold", "cold.stored", "items stored", "items",
            _get("cold", "db", "items_stored"), fmt="{:.0f}",
            target=f"= {n * m}", check=_eq(n * m)),
        Row("1 cold", "cold.unpolled", "sources without a successful poll", "sources",
            _unpolled(n), fmt="{:.0f}", target="= 0", check=_eq(0)),
        Row("1 cold", "cold.in_flight", "most requests in flight at the farm", "requests",
            _get("cold", "farm", "max_in_flight"), fmt="{:.0f}"),
        Row("2 new items", "new.wall", f"wall, N={new_n}, K={k}", "s",
            _from_round((), lambda r: r["wall"]), target="≤ 2 s", check=_le(2.0)),
        Row("2 new items", "new.last_email", "round start → last email accepted", "s",
            _from_round((), _last_email_after), target="≤ 2 s", check=_le(2.0)),
        Row("2 new items", "new.queued", "emails the service queued (distinct Message-IDs)",
            "emails", _get("db", "emails_queued"), fmt="{:.0f}",
            target=f"= {new_n * k}", check=_eq(new_n * k)),
        Row("2 new items", "new.emails", "emails accepted by the sink", "emails",
            _get("sink", "messages"), fmt="{:.0f}",
            target=f"= {new_n * k}", check=_eq(new_n * k)),
        Row("2 new items", "new.dupes", "duplicate Message-IDs", "emails",
            _get("sink", "duplicate_message_ids"), fmt="{:.0f}", target="= 0", check=_eq(0)),
        Row("2 new items", "new.connections", "SMTP connections", "connections",
            _get("sink", "connections"), fmt="{:.0f}"),
        Row("3 idle", "idle.wall", f"wall, N={n}, all 304", "s",
            _from_round(idle, lambda r: r["wall"]), target="≤ 2 s", check=_le(2.0)),
        Row("3 idle", "idle.cpu", "CPU", "s", _from_round(idle, lambda r: r["cpu"])),
        Row("3 idle", "idle.bytes", "bytes received (headers + bodies)", "KB",
            _from_round(idle, lambda r: r["farm"]["bytes_out"] / 1024), fmt="{:.0f}"),
        Row("3 idle", "idle.304", "304 answers", "requests",
            _from_round(idle, lambda r: r["farm"]["not_modified"]), fmt="{:.0f}",
            target=f"= {n}", check=_eq(n)),
        Row("4 classify", "classify.items_cpu_s", "items per CPU-second (one core), 1 KB",
            "items/s", _get("items_per_cpu_s"), fmt="{:.0f}", target="≥ 5000", check=_ge(5000)),
        Row("4 classify", "classify.items_s", "items/s by wall clock (shared machine)", "items/s",
            _get("items_per_s"), fmt="{:.0f}"),
        Row("5 memory", "memory.peak", f"peak memory (PSS, all processes), N={n}", "MB",
            _first("peak_tree_rss_after_idle_mb", "peak_tree_rss_mb"), fmt="{:.0f}",
            target="≤ 200 MB",
            check=_le(200)),
        Row("5 memory", "memory.peak_20", f"peak memory (PSS, all processes), N={n}, issue 20",
            "MB", _first("peak_tree_rss_after_idle_mb", "peak_tree_rss_mb"), fmt="{:.0f}",
            target="≤ 150 MB at N=1000", check=_le(150)),
        Row("5 memory", "memory.peak_own", "peak RSS of the service process alone", "MB",
            _first("peak_rss_after_idle_mb", "peak_rss_mb"), fmt="{:.0f}"),
        Row("5 memory", "memory.rss10", "daemon memory (PSS, all processes), round 10", "MB",
            _rss_at("first"), fmt="{:.1f}"),
        Row("5 memory", "memory.rssN", f"daemon memory, round {rounds}", "MB",
            _rss_at("last"), fmt="{:.1f}"),
        Row("5 memory", "memory.own10", "daemon process RSS, round 10", "MB",
            _rss_at("first", OWN), fmt="{:.1f}"),
        Row("5 memory", "memory.ownN", f"daemon process RSS, round {rounds}", "MB",
            _rss_at("last", OWN), fmt="{:.1f}"),
        Row("5 memory", "memory.growth", f"growth of the daemon process, round 10 → {rounds}",
            "MB", _rss_growth, fmt="{:+.1f}", target="≈ 0 (≤ 5 MB)", check=_le(5.0)),
        Row("5 memory", "memory.slope", "daemon process RSS trend over all samples",
            "MB/100 rounds", _rss_slope, fmt="{:+.2f}"),
        Row("5 memory", "memory.rounds", "daemon rounds completed", "rounds",
            _get("rounds_done"), fmt="{:.0f}", target=f"= {rounds}", check=_ge(rounds)),
        Row("7 templated", "stories.off", f"cold wall, N={knobs.get('stories_n', 200)}×{m}"
            " templated notes, story_window 0s", "s", _get("off", "wall")),
        Row("7 templated", "stories.default", "cold wall, default story window (7 days)", "s",
            _get("default", "wall")),
        Row("7 templated", "stories.ratio", "default window ÷ window 0s", "×", _get("ratio"),
            target="≤ 1.2", check=_le(1.2)),
        Row("7 templated", "stories.cpu_ratio", "CPU (the process tree), default ÷ 0s", "×",
            _get("cpu_ratio")),
        Row("7 templated", "stories.stored", "items stored (default window)", "items",
            _get("default", "db", "items_stored"), fmt="{:.0f}"),
        Row("7 templated", "stories.stories", "stories (each item is another event)",
            "stories", _get("default", "db", "stories"), fmt="{:.0f}",
            target="= items stored", check=_equals("stories.stored")),
        Row("6 parse floor", "floor.wall", f"feedparser alone, {n} docs, all cores", "s",
            _get("wall")),
        Row("6 parse floor", "floor.cpu", "CPU of the pool workers", "s", _get("cpu")),
        Row("6 parse floor", "floor.single", "one core, per 20-item feed" if m == 20
            else f"one core, per {m}-item feed", "ms", _get("single_cpu_ms_per_feed")),
    ]  # fmt: skip


SCENARIO_OF_ROW = {
    "cold": "cold_idle",
    "idle": "cold_idle",
    "new": "new_items",
    "classify": "classify",
    "floor": "parse_floor",
    "stories": "stories_cold",
}


SELECTION_OF_PREFIX = {"cold": "cold", "idle": "cold", "new": "new", "classify": "classify",
                       "floor": "floor", "memory": "memory", "stories": "stories"}  # fmt: skip


def selected(table: Sequence[Row], only: set[str]) -> list[Row]:
    """The rows of the scenarios chosen with `--only` (memory.peak comes with cold)."""

    def wanted(row: Row) -> bool:
        if row.key in ("memory.peak", "memory.peak_20", "memory.peak_own"):
            return "cold" in only
        return SELECTION_OF_PREFIX[row.key.split(".")[0]] in only

    return [row for row in table if wanted(row)]


def _results_for(row: Row, results: dict[str, list[Result]]) -> list[Result]:
    prefix = row.key.split(".")[0]
    if prefix == "memory":
        name = "cold_idle" if row.key.startswith("memory.peak") else "daemon_memory"
    else:
        name = SCENARIO_OF_ROW[prefix]
    return results.get(name, [])


def figures(table: Sequence[Row], results: dict[str, list[Result]]) -> dict[str, Summary | None]:
    """Every row's summary over the runs, by row key; the cold/floor ratio is derived."""
    out: dict[str, Summary | None] = {}
    for row in table:
        values = [v for r in _results_for(row, results) if (v := row.extract(r)) is not None]
        out[row.key] = summarise(values)
    for key, numerator, denominator in (
        ("cold.ratio", "cold.wall", "floor.wall"),
        ("cold.ratio_20", "cold.wall", "floor.wall"),
        ("cold.cpu_ratio", "cold.cpu", "floor.cpu"),
    ):
        top, bottom = out.get(numerator), out.get(denominator)
        if top is not None and bottom is not None and bottom.median > 0:
            base = bottom.median
            out[key] = Summary(top.median / base, top.low / base, top.high / base, top.runs)
    return out


def render(table: Sequence[Row], figs: dict[str, Summary | None]) -> str:
    """The markdown table."""
    lines = [
        "| scenario | figure | median | min – max | runs | target | met |",
        "| --- | --- | ---: | ---: | ---: | --- | :---: |",
    ]
    for row in table:
        summary = figs.get(row.key)
        if summary is None:
            median, spread, runs, met = "—", "—", "0", ""
        else:
            median = f"{row.fmt.format(summary.median)} {row.unit}"
            spread = f"{row.fmt.format(summary.low)} – {row.fmt.format(summary.high)}"
            runs = str(summary.runs)
            verdict = row.check(summary.median, figs) if row.check else None
            met = "" if verdict is None else ("yes" if verdict else "**no**")
        cells = [row.scenario, row.label, median, spread, runs, row.target, met]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.report RESULTS.json`: print the table of a saved run again."""
    import json
    import sys
    from pathlib import Path

    path = Path((argv if argv is not None else sys.argv[1:])[0])
    saved = json.loads(path.read_text(encoding="utf-8"))
    knobs = saved["knobs"]
    table = selected(rows(knobs), set(knobs["only"].split(",")))
    print(render(table, figures(table, saved["results"])))
    for error in saved.get("errors", []):
        print(f"- {error}")


if __name__ == "__main__":
    main()
