"""Commands that try the rules: on documents (`classify`), a labelled set (`eval`), history."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from watcher.cli.common import DEFAULT_CONFIG, ConfigOption, load_or_exit, with_database
from watcher.domain.durations import parse_duration
from watcher.ops.progress import progress_bar


def classify(
    inputs: Annotated[
        list[str], typer.Argument(help="Files, http(s) URLs, or - for standard input.")
    ],
    config: ConfigOption = DEFAULT_CONFIG,
    jsonl: Annotated[
        bool,
        typer.Option(
            "--jsonl",
            help='Batch mode: each input line {"id", "title", "body"} gives one output line'
            ' {"id", "signals": [...]}, in input order.',
        ),
    ] = False,
) -> None:
    """Show the signals a document carries and why each fired."""
    from watcher.classify.engine import Classifier
    from watcher.classify.report import describe_signals
    from watcher.cli.inputs import read_document, read_records
    from watcher.domain.errors import SourceError

    settings = load_or_exit(config, look_further=True)
    classifier = Classifier.from_config(settings)
    try:
        for name in inputs:
            if jsonl:
                stream = sys.stdin if name == "-" else Path(name).open(encoding="utf-8")  # noqa: SIM115
                with stream:
                    for record_id, title, body in read_records(stream, name):
                        signals = classifier.classify(title, body)
                        out = {"id": record_id, "signals": [s.as_dict() for s in signals]}
                        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
                continue
            document = read_document(name, settings.http, stdin=sys.stdin)
            signals = classifier.classify(document.title, document.body)
            typer.echo(describe_signals(name, signals))
    except (OSError, SourceError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def eval_(
    path: Annotated[Path, typer.Argument(help="Labelled JSON-lines file.")],
    config: ConfigOption = DEFAULT_CONFIG,
    split: Annotated[
        str, typer.Option("--split", help="dev, heldout or all (every item).")
    ] = "all",
    errors: Annotated[bool, typer.Option("--errors/--no-errors", help="List the errors.")] = True,
) -> None:
    """Score the rules on a labelled set: per-type P/R/F1, direction accuracy, errors."""
    from watcher.classify.engine import Classifier
    from watcher.classify.evaluate import evaluate, format_evaluation, load_examples

    if split not in ("dev", "heldout", "all"):
        typer.echo(f"error: --split must be dev, heldout or all, not {split!r}", err=True)
        raise typer.Exit(2)
    classifier = Classifier.from_config(load_or_exit(config, look_further=True))
    try:
        examples = load_examples(path)
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(format_evaluation(evaluate(examples, classifier, split), errors=errors))


def backtest(
    since: Annotated[
        str, typer.Option("--since", help="Window of stored items, by fetch time: 30d, 12h.")
    ] = "30d",
    config: ConfigOption = DEFAULT_CONFIG,
    examples: Annotated[int, typer.Option("--examples", min=0, help="Items shown per change.")] = 3,
) -> None:
    """Classify stored items again with this config's rules; show alerts that would change."""
    from watcher.service.backtest import format_backtest, run_backtest

    try:
        window = parse_duration(since)
    except ValueError as exc:
        typer.echo(f"error: --since: {exc}", err=True)
        raise typer.Exit(2) from None
    settings = load_or_exit(config)
    with contextlib.ExitStack() as stack:

        def progress(total: int) -> Callable[[int], None]:
            return stack.enter_context(progress_bar("Classifying stored items", total))

        result = with_database(
            settings,
            lambda db: run_backtest(db, settings, window, datetime.now(UTC), progress),
        )
    typer.echo(format_backtest(result, examples=examples))
