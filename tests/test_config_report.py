"""A config's problems come in one run: all of them, each once, in line order, with hints.

Also: subscribers' element and country filters are read with the classifier's
vocabulary, so a filter that could never match is an error, not silence.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import WriteConfig
from watcher.classify.engine import Classifier
from watcher.cli import app
from watcher.config.load import load_config
from watcher.domain.errors import ConfigError
from watcher.notify.route import wants


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    return caught.value.problems


STAGED = """\
smtp:
  hots: mail.example.com
sources:
  - name: reuters
    kind: fed
    url: https://x.test/
    evrey: 5m
  - name: reuters
    kind: feed
subscribers:
  - email: a@example.com
    signals: [export_contrl]
  - email: A@Example.com
concepts:
  ban: [ban]
  metal: [gallium]
signals:
  export_control:
    match: [[ban, controll], [ban, metl]]
"""


def test_every_problem_of_a_staged_file_in_one_run(tmp_path: Path) -> None:
    """A bad kind, a typo behind it, a duplicate name, a missing url, a duplicate subscriber,
    an unknown signal type and two unknown concepts: all reported at once, in line order."""
    path = tmp_path / "watcher.yaml"
    path.write_text(STAGED, encoding="utf-8")
    problems = _problems(path)
    expected = [
        (2, "smtp.hots: unknown key; did you mean 'host'?"),
        (5, "sources.0.kind: unknown kind 'fed'; did you mean 'feed'?"),
        (7, "sources.0.evrey: unknown key; did you mean 'every'?"),
        (8, "sources.1.name: the name 'reuters' is used twice (first by sources.0)"),
        (8, "sources.1.url: required key is missing"),
        (12, "subscribers.0.signals.0: unknown signal type 'export_contrl';"
         " did you mean 'export_control'?"),
        (13, "subscribers.1.email: a@example.com is listed twice (first as subscribers.0)"),
        (19, "signals.export_control.match.0.1: unknown concept 'controll'"),
        (19, "signals.export_control.match.1.1: unknown concept 'metl'; did you mean 'metal'?"),
    ]  # fmt: skip
    assert len(problems) == len(expected), "\n".join(problems)
    for problem, (line, text) in zip(problems, expected, strict=True):
        assert problem.startswith(f"{path}:{line}: {text}"), problem
    assert len(set(problems)) == len(problems)


def test_check_config_lists_every_problem_and_fails(tmp_path: Path) -> None:
    """The real command prints every problem of the staged file and exits non-zero."""
    path = tmp_path / "watcher.yaml"
    path.write_text(STAGED, encoding="utf-8")
    result = CliRunner().invoke(app, ["check-config", str(path)])
    assert result.exit_code != 0
    assert "9 problems" in result.output
    lines = [int(m) for m in re.findall(rf"{re.escape(str(path))}:(\d+):", result.output)]
    assert lines == sorted(lines)
    assert len(lines) == 9


def test_concept_written_wrong_is_reported_once(tmp_path: Path) -> None:
    """A concept mapping with a typo gets one line per mistake, not one per way of
    writing a concept (pydantic tries the list form too)."""
    path = tmp_path / "watcher.yaml"
    path.write_text("concepts:\n  ban:\n    terms: [ban]\n    glos: x\n", encoding="utf-8")
    assert _problems(path) == [f"{path}:4: concepts.ban.glos: unknown key; did you mean 'gloss'"
                               " or 'glosses'?"]  # fmt: skip


def test_missing_include_names_the_including_line(tmp_path: Path) -> None:
    """An include that does not exist is reported at the line that includes it, and the
    rest of the configuration is still checked."""
    (tmp_path / "rules.yaml").write_text("concepts:\n  ban: [ban]\n", encoding="utf-8")
    path = tmp_path / "watcher.yaml"
    path.write_text(
        "include:\n  - rules.yaml\n  - extra-rules.yaml\nsmtp:\n  prot: 25\n", encoding="utf-8"
    )
    problems = _problems(path)
    assert len(problems) == 2, problems
    assert problems[0].startswith(f"{path}:3: include.1: cannot include ")
    assert "extra-rules.yaml: file not found" in problems[0]
    assert problems[1].startswith(f"{path}:5: smtp.prot: unknown key; did you mean 'port'?")


def test_problems_in_an_include_follow_the_main_file(tmp_path: Path) -> None:
    """Problems are ordered by file (the main file first) and by line within each file."""
    (tmp_path / "rules.yaml").write_text(
        "concepts:\n  ban: [ban]\n  bad: ['re:(x']\n", encoding="utf-8"
    )
    path = tmp_path / "watcher.yaml"
    path.write_text("include: [rules.yaml]\nsmtp:\n  prot: 25\ndata_dirr: x\n", encoding="utf-8")
    problems = _problems(path)
    assert [p.split(": ", 1)[0] for p in problems] == [
        f"{path}:3",
        f"{path}:4",
        f"{tmp_path / 'rules.yaml'}:3",
    ]


@pytest.mark.parametrize(
    ("field", "written", "error"),
    [
        ("elements", "Dyy", "unknown element 'Dyy'; did you mean Dy (dysprosium)?"),
        ("elements", "neodymum", "unknown element 'neodymum'; did you mean Nd (neodymium)"),
        ("countries", "Chnia", "unknown country 'Chnia'; did you mean China"),
    ],
)
def test_filter_that_can_never_match_is_an_error(
    write_config: WriteConfig, field: str, written: str, error: str
) -> None:
    """An element or country the vocabulary does not know fails with the nearest names."""
    known = {"elements": "Nd", "countries": "China"}[field]
    path = write_config(subscribers=[{"email": "a@example.com", field: [known, written]}])
    problems = _problems(path)
    assert len(problems) == 1
    assert f"subscribers.0.{field}.1: {error}" in problems[0]


@pytest.mark.parametrize(
    ("field", "spellings", "canonical"),
    [
        ("elements", ["neodymium", "Nd", "nd", "钕", "釹"], "Nd"),
        ("elements", ["gallium", "Ga"], "Ga"),
        ("elements", ["NdPr", "Pr-Nd", "PrNd"], "Pr+Nd"),
        ("countries", ["China", "china", "PRC", "中国"], "China"),
        ("countries", ["US", "united states", "美国"], "United States"),
    ],
)
def test_filters_read_names_symbols_and_chinese(
    write_config: WriteConfig, field: str, spellings: list[str], canonical: str
) -> None:
    """Every way the classifier's vocabulary writes an entity is one filter value."""
    path = write_config(
        subscribers=[{"email": f"s{i}@example.com", field: [s]} for i, s in enumerate(spellings)]
    )
    config = load_config(path, environ={})
    assert [getattr(s, field) for s in config.subscribers] == [[canonical]] * len(spellings)


NEODYMIUM_REPORT = (
    "China imposes export ban on neodymium.\n"
    "Beijing announced an export ban on neodymium products, effective immediately."
)


def test_filter_by_name_receives_what_the_symbol_receives(write_config: WriteConfig) -> None:
    """`elements: [neodymium]` and `countries: [PRC]` get a neodymium report from China,
    as `[Nd]` does; `[Dy]` does not."""
    path = write_config(
        subscribers=[
            {"email": "name@example.com", "elements": ["neodymium"], "countries": ["PRC"]},
            {"email": "symbol@example.com", "elements": ["Nd"]},
            {"email": "other@example.com", "elements": ["dysprosium"]},
        ]
    )
    config = load_config(path, environ={})
    title, body = NEODYMIUM_REPORT.split("\n", 1)
    signals = Classifier.from_config(config, warn=False).classify(title, body)
    assert signals, "the sample report must carry a signal"
    assert any("Nd" in s.entities.elements for s in signals)
    by_address = {
        sub.address: any(wants(sub, signal) for signal in signals) for sub in config.subscribers
    }
    assert by_address == {
        "name@example.com": True,
        "symbol@example.com": True,
        "other@example.com": False,
    }


def test_files_source_without_its_folder_is_a_warning(
    write_config: WriteConfig, tmp_path: Path
) -> None:
    """`check-config` accepts a `files` source whose folder is missing, with a warning
    naming the source and the folder; an existing folder gives no warning."""
    present = tmp_path / "reports"
    present.mkdir()
    missing = tmp_path / "inbox"
    path = write_config(
        sources=[
            {"name": "present", "kind": "files", "path": str(present)},
            {"name": "later", "kind": "files", "path": str(missing)},
        ]
    )
    result = CliRunner().invoke(app, ["check-config", str(path)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "folder" in line]
    assert warnings == [
        f"warning: sources.1 (later): folder {missing} does not exist;"
        " every poll of this source fails until it does"
    ]


def test_signals_with_a_misspelt_type_is_an_error(write_config: WriteConfig) -> None:
    """`watcher signals --type` with a type no rule has exits 2 naming the nearest type;
    a configured type with no signals yet is an empty success."""
    path = str(write_config())
    typo = CliRunner().invoke(app, ["signals", "--config", path, "--type", "export_contrl"])
    assert typo.exit_code == 2
    expected = "--type 'export_contrl' is not a signal type; did you mean 'export_control'?"
    assert expected in typo.stderr
    known = CliRunner().invoke(app, ["signals", "--config", path, "--type", "export_control"])
    assert known.exit_code == 0, known.output


def test_a_signal_type_in_the_wrong_case_is_one_problem(write_config: WriteConfig) -> None:
    """`Export_Control` breaks the type pattern and names no type: one line, with the hint."""
    path = write_config(subscribers=[{"email": "a@example.com", "signals": ["Export_Control"]}])
    problems = _problems(path)
    assert len(problems) == 1, problems
    assert "unknown signal type 'Export_Control'; did you mean 'export_control'?" in problems[0]
