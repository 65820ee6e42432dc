"""`watcher classify`: files, standard input, URLs and the JSON-lines batch interface."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import ROOT
from tests.servers import FeedServer, Route
from watcher.cli import app

CONFIG = str(ROOT / "config" / "watcher.yaml")
PAGE = """<!doctype html><html><head><title>Kanpaiti border gate shut to rare earth trucks</title>
<script>var closed = "ignore me";</script></head>
<body><nav>Home · Markets</nav><article><h1>Kanpaiti border gate shut to rare earth trucks</h1>
<p>The Kanpaiti crossing was <b>closed</b> on Tuesday, stopping trucks of rare earth
carbonate.</p><p>Prices were steady.</p></article></body></html>"""


def _run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["classify", *args, "--config", CONFIG], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_url_is_fetched_and_explained(feed_server: FeedServer) -> None:
    """An HTML page is fetched, reduced to its article text, and each signal explained."""
    feed_server.routes["/news/gate"] = Route(
        PAGE.encode(), headers={"Content-Type": "text/html; charset=utf-8"}
    )
    code, out, _ = _run(feed_server.url("/news/gate"))
    assert code == 0
    assert "ore_supply_disruption · tightening" in out
    assert "[rule ore_supply_disruption]" in out
    assert "> Kanpaiti [border gate] [shut] to rare earth trucks (title)" in out
    assert "matched: 'border gate' (ore_site), 'shut' (site_disruption)" in out
    assert "ignore me" not in out


def test_unreachable_url_is_an_error(feed_server: FeedServer) -> None:
    """A 404 exits 2 naming the URL and the status."""
    code, _, err = _run(feed_server.url("/missing"))
    assert code == 2
    assert "HTTP 404" in err
    assert "/missing" in err


def test_standard_input_and_files(tmp_path: Path) -> None:
    """`-` reads standard input; a file's short first line is its title."""
    path = tmp_path / "note.md"
    path.write_text("# Quota note\n\nThe rare earth quota is delayed.\n", encoding="utf-8")
    code, out, _ = _run(str(path), "-", stdin="Prices steady\n\nDysprosium was flat.\n")
    assert code == 0
    assert f"{path}: 1 signal" in out
    assert "quota_delay · tightening" in out
    assert "-: no signal" in out


def test_jsonl_gives_one_line_per_record_in_order() -> None:
    """Each input record gives one output line {id, signals}, in order; none gives []."""
    records = [
        {"id": 7, "title": "China bans gallium exports", "body": ""},
        {"id": "b", "title": "PrNd flat", "body": "Nothing happened."},
        {"id": None, "title": "", "body": "Recyclers are short of NdFeB swarf."},
    ]
    stdin = "\n".join(json.dumps(r) for r in records) + "\n\n"
    code, out, _ = _run("--jsonl", "-", stdin=stdin)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["id"] for line in lines] == [7, "b", None]
    assert lines[1] == {"id": "b", "signals": []}
    (signal,) = lines[0]["signals"]
    assert set(signal) == {
        "type",
        "direction",
        "direction_uncertain",
        "direction_doubt",
        "severity",
        "score",
        "speculative",
        "rule",
        "evidence",
        "entities",
    }
    assert (signal["type"], signal["direction"], signal["speculative"]) == (
        "export_control",
        "tightening",
        False,
    )
    assert signal["evidence"][0]["marked"] == "[China] [bans] gallium [exports]"
    assert signal["entities"] == {"elements": ["Ga"], "products": [], "countries": ["China"]}
    assert lines[2]["signals"][0]["type"] == "scrap_shortage"


def test_jsonl_rejects_a_line_that_is_not_an_object(tmp_path: Path) -> None:
    """A malformed record exits 2 naming the file and line."""
    path = tmp_path / "batch.jsonl"
    path.write_text('{"id": 1, "title": "x"}\n[1]\n', encoding="utf-8")
    code, _, err = _run("--jsonl", str(path))
    assert code == 2
    assert f"{path}" in err
    assert "line 2" in err


def test_html_file_is_read_as_html(tmp_path: Path) -> None:
    """A local .html file gets the same HTML-to-text treatment as a fetched page."""
    path = tmp_path / "page.html"
    path.write_text(PAGE, encoding="utf-8")
    code, out, _ = _run(str(path))
    assert code == 0
    assert "ore_supply_disruption · tightening" in out


def test_traditional_chinese_suspension_notice_is_easing_with_glosses(tmp_path: Path) -> None:
    """A traditional-Chinese notice suspending export controls is export_control, easing,
    and each Chinese term is glossed in English."""
    path = tmp_path / "notice.md"
    path.write_text(
        "# 商務部暫停實施稀土出口管制措施\n\n"
        "中國商務部與海關總署聯合發布公告，決定自即日起暫停實施6項涉及稀土出口管制的公告。\n",
        encoding="utf-8",
    )
    code, out, _ = _run(str(path))
    assert code == 0
    assert "export_control · easing · medium" in out
    assert "'暫停實施' = suspend a measure (export_ease_event)" in out
    assert "'出口管制' = export controls (export_control_phrase)" in out


def test_an_uncertain_direction_is_explained_with_the_cues_that_conflict() -> None:
    """The explanation marks the direction uncertain and quotes the word that reads the
    other way; a settled item shows no doubt line."""
    code, out, _ = _run(
        "-",
        stdin="Ore update\n\nIndonesia resumed nickel ore shipments on Monday, but the main"
        " mine there is still halted.\n",
    )
    assert code == 0
    assert "ore_supply_disruption · easing (uncertain)" in out
    assert "direction uncertain: 'halted' in the same sentence reads tightening" in out
    code, out, _ = _run(
        "-", stdin="Ore update\n\nRare earth mines that were suspended in May have resumed.\n"
    )
    assert code == 0
    assert "ore_supply_disruption · easing ·" in out
    assert "direction uncertain" not in out
