"""The `sift` command. Library errors become one-line messages and exit code 2, never tracebacks."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from engine.errors import SiftError
from engine.settings import Settings, get_settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")

app = typer.Typer(help="Sift: triage and self-service knowledge for helpdesks.", no_args_is_help=True)
models_app = typer.Typer(help="Trained head versions: list and roll back.", no_args_is_help=True)
app.add_typer(models_app, name="models")
feedback_app = typer.Typer(help="Agents' corrections of triage results.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")
err = Console(stderr=True, soft_wrap=True)
out = Console()
F = TypeVar("F", bound=Callable[..., Any])


def fails_cleanly(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SiftError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    )


def _settings(**overrides: Any) -> Settings:
    base = get_settings()
    return base.model_copy(update={k: v for k, v in overrides.items() if v is not None})


@app.command()
@fails_cleanly
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default from settings: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings: 8000).")] = None,
) -> None:
    """Start the HTTP API; builds the index and default heads first if the data directory has none."""
    import uvicorn

    from engine.api.app import create_app

    settings = _settings(host=host, port=port)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


@app.command()
@fails_cleanly
def index(kb: Annotated[Path | None, typer.Option("--kb", help="KB directory (default: kb_content/).")] = None) -> None:
    """Build or rebuild the KB index; a running service picks it up on POST /v1/admin/reload or restart."""
    from engine.models.registry import ModelRegistry
    from engine.retrieve import build_index, load_kb
    from engine.retrieve.kb import chunk_article

    settings = _settings(kb_dir=kb)
    registry = ModelRegistry(settings)
    articles = load_kb(settings.kb_dir)
    total = sum(len(chunk_article(a)) for a in articles)
    with progress_bar() as bar:
        task = bar.add_task("encoding KB sections", total=total)
        folder = build_index(registry.encoder, articles, settings.index_dir, lambda n: bar.advance(task, n))
    out.print(f"indexed {len(articles)} articles, {total} sections from {settings.kb_dir} -> {folder}")


class TrainFormat(StrEnum):
    """Where labelled tickets come from; ``auto`` reads .csv/.tsv/.jsonl by suffix."""

    auto = "auto"
    zendesk = "zendesk"
    freshdesk = "freshdesk"


@app.command()
@fails_cleanly
def train(
    data: Annotated[Path, typer.Argument(help="Labelled tickets: .csv, .tsv, .jsonl, or a helpdesk export.")],
    text_column: Annotated[
        str | None, typer.Option(help="Column with the ticket text (--format auto; default: text).")
    ] = None,
    topic_column: Annotated[
        str | None,
        typer.Option(help="Column with the topic label; for exports a field, 'tag:PREFIX' or 'custom_field:ID'."),
    ] = None,
    urgency_column: Annotated[
        str | None, typer.Option(help="Column with the urgency label; for exports the priority field, e.g. priority.")
    ] = None,
    subject_column: Annotated[
        str | None, typer.Option(help="Optional subject column, prefixed to the text (--format auto).")
    ] = None,
    fmt: Annotated[
        TrainFormat, typer.Option("--format", help="auto (CSV/TSV/JSONL), zendesk (JSON export), freshdesk (CSV).")
    ] = TrainFormat.auto,
    include_feedback: Annotated[
        bool, typer.Option("--include-feedback", help="Add the tickets agents corrected, with their corrected labels.")
    ] = False,
) -> None:
    """Fit and activate the topic and/or urgency heads; a head whose column is not given keeps its version."""
    from engine.classify.importers import read_training_data
    from engine.classify.training import train_heads
    from engine.models.registry import ModelRegistry

    heads = {name: col for name, col in (("topic", topic_column), ("urgency", urgency_column)) if col}
    if not heads:
        raise SiftError("give --topic-column and/or --urgency-column: there is nothing to train")
    settings = get_settings()
    labelled = read_training_data(data, fmt.value, heads, text_column, subject_column)
    if include_feedback:
        labelled = _with_feedback(labelled, list(heads), settings, data.name)
    registry = ModelRegistry(settings)

    def encode(texts: list[str]) -> Any:
        import numpy as np

        step = 64
        parts = []
        with progress_bar() as bar:
            task = bar.add_task("encoding tickets", total=len(texts))
            for start in range(0, len(texts), step):
                parts.append(registry.encoder.encode_queries(texts[start : start + step]))
                bar.advance(task, len(parts[-1]))
        return np.vstack(parts)

    for report in train_heads(registry, labelled, {name: name for name in heads}, encode):
        table = Table(title=f"{report.name} head {report.version}")
        table.add_column("label")
        table.add_column("examples", justify="right")
        for label, n in report.counts.items():
            table.add_row(label, str(n))
        out.print(table)
        for warning in report.warnings:
            err.print(f"[yellow]warning:[/yellow] {warning}")
        if report.metrics:
            out.print("held-out: " + ", ".join(f"{k}={v}" for k, v in report.metrics.items()))
        out.print(f"activated {report.name} {report.version}")


def _with_feedback(labelled: Any, heads: list[str], settings: Settings, source: str) -> Any:
    """The labelled tickets plus the ticket-log tickets whose labels agents corrected."""
    from engine.classify.feedback_data import latest_corrections, merge_corrections
    from engine.store import FeedbackStore

    store = FeedbackStore(settings.database_path)
    try:
        merged = merge_corrections(labelled, latest_corrections(store.records()), {name: name for name in heads})
    finally:
        store.close()
    relabelled = f"; relabelled {merged.relabelled} already in {source}" if merged.relabelled else ""
    out.print(f"feedback: added {merged.added} corrected tickets from the ticket log{relabelled}")
    return merged.data


@app.command()
@fails_cleanly
def bootstrap() -> None:
    """Build the KB index and train the default heads if the data directory lacks them."""
    from engine.bootstrap import ensure_ready
    from engine.models.registry import ModelRegistry

    report = ensure_ready(ModelRegistry(get_settings()))
    out.print(
        f"index: {'built' if report.built_index else 'present'}; "
        f"heads trained: {', '.join(r.name for r in report.trained) or 'none needed'}"
    )


def _service() -> Any:
    from engine.bootstrap import ensure_ready
    from engine.service import TriageService

    service = TriageService.create(get_settings())
    ensure_ready(service.pipeline.registry)
    return service


@app.command("triage")
@fails_cleanly
def triage_one(
    text: Annotated[str, typer.Argument(help="The ticket text.")],
    subject: Annotated[str | None, typer.Option(help="Subject line.")] = None,
    channel: Annotated[str | None, typer.Option(help="email, chat, social, messaging, phone or web.")] = None,
    customer_name: Annotated[str | None, typer.Option(help="Customer name for the draft's greeting.")] = None,
) -> None:
    """Triage one ticket offline and print the result as JSON (the API's response shape)."""
    from engine.types import CHANNELS

    if channel is not None and channel not in CHANNELS:
        raise SiftError(f"--channel must be one of {', '.join(CHANNELS)}; got {channel!r}")
    payload = {"text": text, "subject": subject, "channel": channel, "customer_name": customer_name}
    result = _service().triage([payload])[0]
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")


@app.command("triage-file")
@fails_cleanly
def triage_file(
    data: Annotated[Path, typer.Argument(help="Tickets: .csv, .tsv or .jsonl.")],
    out_path: Annotated[Path, typer.Option("--out", help="Where to write one JSON object per row (.jsonl).")],
    text_column: Annotated[str, typer.Option(help="Column with the ticket text.")] = "text",
    subject_column: Annotated[str | None, typer.Option(help="Optional subject column.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=1024, help="Tickets per pipeline batch.")] = 64,
) -> None:
    """Triage every row offline in batches; output rows keep input order, refused rows carry an error."""
    from engine.classify.data import read_rows
    from engine.errors import InvalidInput

    if not data.is_file():
        raise InvalidInput("DATA", f"{data} does not exist or is not a file")
    rows = read_rows(data)
    if rows and text_column not in rows[0]:
        raise InvalidInput(text_column, f"no column {text_column!r} in {data}; columns are {sorted(rows[0])}")
    service = _service()
    refused = 0
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("w", encoding="utf-8") as fh, progress_bar() as bar:
        task = bar.add_task("triaging", total=len(rows))
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            payloads: list[dict[str, Any]] = []
            positions: list[int] = []
            results: dict[int, dict[str, Any]] = {}
            for offset, row in enumerate(chunk):
                text = str(row.get(text_column) or "")
                if not text.strip():
                    results[offset] = {"row": start + offset, "error": {"field": text_column, "message": "empty text"}}
                    refused += 1
                    continue
                subject = row.get(subject_column) if subject_column else None
                payloads.append({"text": text, "subject": str(subject) if subject else None})
                positions.append(offset)
            for offset, result in zip(positions, service.triage(payloads) if payloads else [], strict=True):
                results[offset] = {"row": start + offset, **result}
            for offset in range(len(chunk)):
                fh.write(json.dumps(results[offset], ensure_ascii=False) + "\n")
            bar.advance(task, len(chunk))
    out.print(f"wrote {len(rows)} results to {out_path}" + (f" ({refused} rows refused: empty text)" if refused else ""))


@models_app.command("list")
@fails_cleanly
def models_list() -> None:
    """Every trained head version, the active one marked."""
    from engine.models.heads import active_version

    settings = get_settings()
    table = Table(title=f"heads in {settings.heads_dir}")
    for column in ("head", "version", "active", "examples", "metrics"):
        table.add_column(column)
    for name in ("topic", "urgency"):
        folder = settings.heads_dir / name
        active = active_version(settings.heads_dir, name)
        for version in sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []:
            meta = json.loads((folder / version / "meta.json").read_text())
            metrics = ", ".join(f"{k}={v}" for k, v in meta.get("metrics", {}).items())
            table.add_row(name, version, "*" if version == active else "", str(meta["n_examples"]), metrics)
    out.print(table)


@models_app.command("activate")
@fails_cleanly
def models_activate(
    head: Annotated[str, typer.Argument(help="topic or urgency")],
    version: Annotated[str, typer.Argument(help="A version from `sift models list`.")],
) -> None:
    """Make a version active (roll back or forward); running services pick it up on POST /v1/admin/reload."""
    from engine.models.heads import activate

    activate(get_settings().heads_dir, head, version)
    out.print(f"activated {head} {version}")


@feedback_app.command("export")
@fails_cleanly
def feedback_export(
    out_path: Annotated[Path, typer.Option("--out", help="Where to write one JSON object per feedback (.jsonl).")],
) -> None:
    """Every feedback, oldest first, with its ticket's text and subject and the prediction it corrects."""
    from engine.store import FeedbackStore

    store = FeedbackStore(get_settings().database_path)
    try:
        records = store.records()
    finally:
        store.close()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
    out.print(f"wrote {len(records)} feedback rows to {out_path}")
