"""The `sift` command. Library errors become one-line messages and exit code 2, never tracebacks."""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from engine.errors import InvalidInput, SiftError
from engine.settings import KnowledgeBase, Settings, get_settings, select_tenant

if TYPE_CHECKING:
    from engine.models.registry import ModelRegistry
    from engine.retrieve.index import IndexReport

os.environ.setdefault("HF_HUB_OFFLINE", "1")

app = typer.Typer(help="Sift: triage and self-service knowledge for helpdesks.", no_args_is_help=True)
models_app = typer.Typer(help="The encoder conversion and trained head versions.", no_args_is_help=True)
app.add_typer(models_app, name="models")
feedback_app = typer.Typer(help="Agents' corrections of triage results.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")
kb_app = typer.Typer(help="Knowledge base: import articles from other tools.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
keys_app = typer.Typer(help="API keys: who may call which endpoints.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
db_app = typer.Typer(help="The ticket log's database: schema revision and migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
policy_app = typer.Typer(help="The routing policy: check a file, replay past tickets under it.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
macros_app = typer.Typer(help="The helpdesk's own macros (Jinja2 templates per queue and language).", no_args_is_help=True)
app.add_typer(macros_app, name="macros")
translate_app = typer.Typer(help="Machine translation backends and Argos packages.", no_args_is_help=True)
app.add_typer(translate_app, name="translate")
err = Console(stderr=True, soft_wrap=True)
out = Console()
F = TypeVar("F", bound=Callable[..., Any])


def fails_cleanly(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SiftError as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(2) from None
        except ValidationError as exc:  # the settings (sift.toml, SIFT_* variables) are input too
            err.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    )


def _encode_with_progress(
    registry: ModelRegistry, description: str, second_view: bool = False
) -> Callable[[list[str]], Any]:
    """The registry's query encoder (or the heads' second view), 64 texts a call, behind a progress bar: for
    commands that encode many tickets."""

    def encode(texts: list[str]) -> Any:
        import numpy as np

        step = 64
        parts = []
        with progress_bar() as bar:
            task = bar.add_task(description, total=len(texts))
            for start in range(0, len(texts), step):
                chunk = texts[start : start + step]
                second = registry.second_view if second_view else None
                parts.append(second.encode(chunk) if second is not None else registry.encoder.encode_queries(chunk))
                bar.advance(task, len(parts[-1]))
        return np.vstack(parts)

    return encode


@app.callback()
def main(
    tenant: Annotated[
        str | None,
        typer.Option(
            help="The tenant a command acts for (settings.tenants): its KBs, heads, policy, ticket log and feedback. "
            "Default: SIFT_TENANT, else the default tenant. `sift serve` serves every tenant.",
        ),
    ] = None,
) -> None:
    """Sift: triage and self-service knowledge for helpdesks."""
    select_tenant(tenant)
    if tenant is not None:
        fails_cleanly(get_settings)()  # an unknown tenant stops here, exit 2, naming the tenants there are


def _settings(**overrides: Any) -> Settings:
    base = get_settings()
    return base.model_copy(update={k: v for k, v in overrides.items() if v is not None})


@app.command()
@fails_cleanly
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default from settings: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings: 8000).")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes on the port; each loads the models once and "
                                              "they share the index files and the database.")] = 1,
) -> None:
    """Start the HTTP API; builds the index and default heads first if the data directory has none.

    The port answers at once (503 with Retry-After while models load). Without API keys it binds only to a
    loopback address: an open API must not be reachable from other machines. Every tenant in the settings is
    served; each request acts for its key's tenant.
    """
    if workers < 1:
        raise SiftError(f"--workers must be at least 1; got {workers}")
    import uvicorn

    from engine.api.app import create_app
    from engine.store.keys import KeyStore

    settings = _settings(host=host, port=port)
    if settings.tenant != "default":
        raise InvalidInput("--tenant", "sift serve serves every tenant at once: leave out --tenant and SIFT_TENANT")
    keys = KeyStore(settings.keys_database)
    try:
        open_api = not keys.exist()
    finally:
        keys.close()
    loopback = settings.host == "localhost" or _is_loopback(settings.host)
    if open_api and not loopback:
        raise SiftError(
            f"no API keys exist, so the API would answer anyone who reaches {settings.host}: create one with "
            "`sift keys create --name NAME --scope triage` first, or bind to 127.0.0.1"
        )
    if workers > 1:
        _serve_workers(settings, workers)
        return
    server = uvicorn.Server(uvicorn.Config(create_app(settings, on_start_failure=lambda: _stop(server)),
                                           host=settings.host, port=settings.port, log_level="info",
                                           timeout_keep_alive=settings.keep_alive_seconds))
    server.run()
    if getattr(server, "start_failed", False):
        raise typer.Exit(3)


WORKER_HEALTHCHECK_S = 300


def _serve_workers(settings: Settings, workers: int) -> None:
    """uvicorn's worker processes, each building its app from the environment (``create_worker_app``); the host
    and port given here reach them through it. Exit code 3 when a worker could not load, as for one process."""
    import tempfile

    import uvicorn

    from engine.api.app import WORKER_FAILURE_ENV

    with tempfile.TemporaryDirectory(prefix="sift-serve-") as tmp:
        failure = Path(tmp) / "failed"
        os.environ.update({"SIFT_HOST": settings.host, "SIFT_PORT": str(settings.port),
                           WORKER_FAILURE_ENV: str(failure)})
        # A worker answers uvicorn's health pings from a thread, and a new one counts as ready once its models are
        # loaded (create_worker_app): uvicorn's default 5 s had loading workers on a busy machine killed and
        # restarted over and over. The same wait bounds how long a hung worker goes unnoticed.
        uvicorn.run("engine.api.app:create_worker_app", factory=True, host=settings.host, port=settings.port,
                    workers=workers, log_level="info", timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
                    timeout_keep_alive=settings.keep_alive_seconds)
        if failure.exists():
            raise typer.Exit(3)


def _is_loopback(host: str) -> bool:
    try:
        return bool(ipaddress.ip_address(host).is_loopback)
    except ValueError:
        return False


def _stop(server: Any) -> None:
    """Loading failed: stop serving (exit code 3), so a supervisor restarts or reports the replica."""
    server.start_failed = True
    server.should_exit = True


KnowledgeBaseOption = Annotated[
    str | None,
    typer.Option("--knowledge-base", help="Name of a configured knowledge base (default: default_kb)."),
]


def _knowledge_base(name: str | None) -> KnowledgeBase:
    """The configured knowledge base ``--knowledge-base`` names (the default one for None), else a clean refusal."""
    from engine.retrieve.knowledge_bases import resolve_kb

    return resolve_kb(get_settings().kbs(), name, "--knowledge-base")


@app.command()
@fails_cleanly
def index(
    kb: Annotated[
        Path | None, typer.Option("--kb", help="KB directory (default: the knowledge base's dir, kb_content/).")
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Re-encode every section instead of reusing the unchanged ones.")
    ] = False,
    knowledge_base: Annotated[
        str | None,
        typer.Option("--knowledge-base", help="Index only this configured knowledge base (default: all of them)."),
    ] = None,
) -> None:
    """Build each knowledge base's index, re-encoding only sections whose text changed since its current build.

    A running service picks the new builds up on POST /v1/admin/reload or restart.
    """
    from dataclasses import replace

    from engine.models.registry import ModelRegistry

    settings = get_settings()
    kbs = settings.kbs()
    targets = [_knowledge_base(knowledge_base)] if knowledge_base is not None else list(kbs.values())
    if kb is not None:
        if len(targets) > 1:
            raise InvalidInput("--kb", f"several knowledge bases are configured ({', '.join(kbs)}): name one with --knowledge-base")
        targets = [replace(targets[0], kb_dir=kb)]
    registry = ModelRegistry(settings)
    for target in targets:
        if len(kbs) > 1:
            out.print(f"[bold]{target.name}[/bold] ({target.kb_dir})")
        _print_index_report(_index_with_progress(registry, target, full))


def _index_with_progress(registry: ModelRegistry, kb: KnowledgeBase, full: bool) -> IndexReport:
    from engine.bootstrap import index_kb

    with progress_bar() as bar:
        task = bar.add_task(f"encoding {kb.name} sections", total=None)

        def update(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=f"encoding {kb.name} {label}")

        return index_kb(registry, kb, update, full=full)


def _print_index_report(report: IndexReport) -> None:
    """Say what changed since the previous build and how much encoding that cost."""
    out.print(
        f"articles: {report.articles} ({len(report.added)} added, {len(report.changed)} changed, "
        f"{len(report.deleted)} deleted, {report.unchanged} unchanged)"
    )
    for name in ("added", "changed", "deleted"):
        ids = getattr(report, name)
        if ids:
            shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
            out.print(f"  {name}: {shown}")
    why = f"; all re-encoded: {report.full_reason}" if report.full_reason else ""
    out.print(
        f"sections: {report.chunks} and {report.windows} sentence windows "
        f"({report.encoded} encoded, {report.reused} reused{why})"
    )
    if report.second_view:
        out.print(f"second view: {report.second_view} ({report.second_encoded} encoded)")
    out.print(f"index: {report.index_type}, {report.folder}")


class KBFormat(StrEnum):
    """Sources `sift kb import` converts into KB Markdown."""

    zendesk = "zendesk"
    faq_csv = "faq-csv"


@kb_app.command("import")
@fails_cleanly
def kb_import(
    files: Annotated[list[Path], typer.Argument(help="Export files: Zendesk JSON pages, or FAQ .csv/.tsv files.")],
    fmt: Annotated[KBFormat, typer.Option("--format", help="zendesk (Help Center articles JSON) or faq-csv.")],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="KB directory to write Markdown into (default: the knowledge base's directory)."),
    ] = None,
    knowledge_base: Annotated[
        str | None, typer.Option("--knowledge-base", help="Import into this configured knowledge base's directory.")
    ] = None,
    product: Annotated[str, typer.Option(help="Product of the articles (faq-csv: unless a product column says).")] = (
        "general"
    ),
    language: Annotated[
        str | None, typer.Option(help="faq-csv: language of rows without a language column value (default: en).")
    ] = None,
    question_column: Annotated[str | None, typer.Option(help="faq-csv: question column (default: question).")] = None,
    answer_column: Annotated[str | None, typer.Option(help="faq-csv: answer column (default: answer).")] = None,
    column: Annotated[
        list[str] | None,
        typer.Option(
            help="faq-csv: FIELD=COLUMN for an optional field (id, language, product, tags, audience, updated); "
            "by default a column named like the field is used when present."
        ),
    ] = None,
) -> None:
    """Convert a help-centre export or an FAQ sheet into KB Markdown articles; then run `sift index`."""
    from engine.kb.importers import import_faq_csv, import_zendesk, write_articles

    if out_dir is not None and knowledge_base is not None:
        raise InvalidInput("--out", "give --out or --knowledge-base, not both")
    target = out_dir or _knowledge_base(knowledge_base).kb_dir
    faq_options = {"--language": language, "--question-column": question_column, "--answer-column": answer_column}
    if fmt is KBFormat.zendesk:
        for option, value in [*faq_options.items(), ("--column", column)]:
            if value:
                raise InvalidInput(option, "applies to --format faq-csv only")
        result = import_zendesk(files, product)
    else:
        columns = dict(_field_column(spec) for spec in column or [])
        columns |= {k: v for k, v in (("question", question_column), ("answer", answer_column)) if v}
        result = import_faq_csv(files, product, language or "en", columns)
    skipped = ", ".join(f"{reason}: {n}" for reason, n in result.skipped.items())
    if not result.articles:
        raise InvalidInput("FILE", "nothing to import" + (f"; skipped ({skipped})" if skipped else ""))
    write_articles(result.articles, target)
    translations = sum(1 for a in result.articles if a.translation_of)
    internal = sum(1 for a in result.articles if a.audience == "internal")
    out.print(
        f"wrote {len(result.articles)} articles ({translations} translations, {internal} internal) to {target}"
        + (f"; skipped ({skipped})" if skipped else "")
    )
    out.print("run `sift index" + (f" --knowledge-base {knowledge_base}" if knowledge_base else "") + "` to index them")


def _field_column(spec: str) -> tuple[str, str]:

    field, sep, name = spec.partition("=")
    if not sep or not field.strip() or not name.strip():
        raise InvalidInput("--column", f"expected FIELD=COLUMN, e.g. tags=Keywords; got {spec!r}")
    return field.strip(), name.strip()


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
    unlabelled: Annotated[
        list[Path] | None,
        typer.Option(
            "--unlabelled",
            help="More tickets without labels (same format and text columns as DATA), e.g. recent tickets in other "
            "languages: they estimate each language's mean embedding for language centring. Repeatable.",
        ),
    ] = None,
    unlabelled_from_log: Annotated[
        bool,
        typer.Option(
            "--unlabelled-from-log",
            help="Also estimate the language means from the service's ticket log (processed tickets, as masked).",
        ),
    ] = False,
) -> None:
    """Fit and activate the topic and/or urgency heads; a head whose column is not given keeps its version."""
    from engine.models.registry import ModelRegistry
    from engine.training.heads import train_heads
    from engine.training.importers import read_training_data

    heads = {name: col for name, col in (("topic", topic_column), ("urgency", urgency_column)) if col}
    if not heads:
        raise SiftError("give --topic-column and/or --urgency-column: there is nothing to train")
    settings = get_settings()
    labelled = read_training_data(data, fmt.value, heads, text_column, subject_column)
    if include_feedback:
        labelled = _with_feedback(labelled, list(heads), settings, data.name)
    extra = [
        text
        for path in unlabelled or []
        for text in read_training_data(path, fmt.value, {}, text_column, subject_column).texts
    ]
    if unlabelled_from_log:
        extra += _logged_texts(settings)
    registry = ModelRegistry(settings)
    encode = _encode_with_progress(registry, "encoding tickets")
    encode_second = (
        _encode_with_progress(registry, f"encoding tickets ({settings.head_second_view})", second_view=True)
        if registry.heads_second_view is not None
        else None
    )
    reports = train_heads(registry, labelled, {name: name for name in heads}, encode, extra, encode_second)
    for report in reports:
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
    if reports[0].centring is not None:
        out.print(_centring_line(reports[0].centring))


def _logged_texts(settings: Settings) -> list[str]:
    """The text every processed ticket of the ticket log was triaged on (masked, as stored)."""
    from engine.report.gap_run import logged_tickets
    from engine.training.data import join_subject

    texts = [join_subject(t.payload.get("subject"), t.payload.get("text")) for t in logged_tickets(settings, None)]
    out.print(f"ticket log: {len(texts)} processed tickets for the language means")
    return [t for t in texts if t]


def _centring_line(means: Any) -> str:
    """Which languages the head centres on their own mean, and which on the overall one (too few tickets)."""
    own = ", ".join(f"{code} {n}" for code, n in means.counts.items() if code in means.means)
    few = ", ".join(f"{code} {n}" for code, n in means.counts.items() if code not in means.means)
    return f"language centring: {own or 'no language has enough tickets'}" + (
        f"; on the overall mean (too few tickets, or undetermined): {few}" if few else ""
    )


def _with_feedback(labelled: Any, heads: list[str], settings: Settings, source: str) -> Any:
    """The labelled tickets plus the ticket-log tickets whose labels agents corrected."""
    from engine.store import FeedbackStore
    from engine.training.feedback import latest_corrections, merge_corrections

    store = FeedbackStore(settings.database)
    try:
        records, unreadable = store.readable()
    finally:
        store.close()
    merged = merge_corrections(labelled, latest_corrections(records), {name: name for name in heads})
    relabelled = f"; relabelled {merged.relabelled} already in {source}" if merged.relabelled else ""
    out.print(f"feedback: added {merged.added} corrected tickets from the ticket log{relabelled}")
    for problem in [*unreadable, *merged.skipped]:
        err.print(f"[yellow]warning:[/yellow] feedback skipped: {problem}")
    return merged.data


@app.command()
@fails_cleanly
def bootstrap() -> None:
    """Build the KB index and train the default heads if the data directory lacks them."""
    from engine.bootstrap import ensure_ready
    from engine.models.registry import ModelRegistry

    report = ensure_ready(ModelRegistry(get_settings()))
    out.print(
        f"index: {'built for ' + ', '.join(report.indexed) if report.indexed else 'present'}; "
        f"heads trained: {', '.join(r.name for r in report.trained) or 'none needed'}"
    )


@contextmanager
def _service() -> Iterator[Any]:
    """A ready service, closed when the command is done so its batching worker stops."""
    from engine.bootstrap import ensure_ready
    from engine.service import TriageService

    service = TriageService.create(get_settings())
    try:
        ensure_ready(service.pipeline.registry)
        yield service
    finally:
        service.close()


@app.command("triage")
@fails_cleanly
def triage_one(
    text: Annotated[str, typer.Argument(help="The ticket text.")],
    subject: Annotated[str | None, typer.Option(help="Subject line.")] = None,
    channel: Annotated[str | None, typer.Option(help="email, chat, social, messaging, phone or web.")] = None,
    customer_name: Annotated[str | None, typer.Option(help="Customer name for the draft's greeting.")] = None,
    customer_salutation: Annotated[
        str | None, typer.Option(help="ms, mr or mx: the form of address for a formal greeting.")
    ] = None,
    customer_id: Annotated[
        str | None, typer.Option(help="Your helpdesk's customer id (stored as a keyed hash, for `sift forget`).")
    ] = None,
    knowledge_base: KnowledgeBaseOption = None,
) -> None:
    """Triage one ticket offline and print the result as JSON (the API's response shape)."""
    from engine.result_shape import to_jsonable
    from engine.types import BLANK_TEXT, CHANNELS, FORMS_OF_ADDRESS, Ticket

    if not text.strip():
        raise InvalidInput("text", BLANK_TEXT)
    if channel is not None and channel not in CHANNELS:
        raise SiftError(f"--channel must be one of {', '.join(CHANNELS)}; got {channel!r}")
    if customer_salutation is not None and customer_salutation not in FORMS_OF_ADDRESS:
        raise SiftError(f"--customer-salutation must be one of {', '.join(FORMS_OF_ADDRESS)}; got {customer_salutation!r}")
    if customer_id is not None and not customer_id.strip():
        raise InvalidInput("--customer-id", "must not be blank")
    ticket = Ticket(
        text=text,
        subject=subject,
        channel=channel,  # type: ignore[arg-type]  # checked against CHANNELS above
        customer_name=customer_name,
        customer_salutation=customer_salutation,  # type: ignore[arg-type]  # checked against FORMS_OF_ADDRESS above
        customer_id=customer_id,
        kb=_knowledge_base(knowledge_base).name,
    )
    with _service() as service:
        [result] = service.triage([ticket])
    sys.stdout.write(json.dumps(to_jsonable(result), ensure_ascii=False, indent=2) + "\n")


@app.command("triage-file")
@fails_cleanly
def triage_file(
    data: Annotated[Path, typer.Argument(help="Tickets: .csv, .tsv or .jsonl.")],
    out_path: Annotated[Path, typer.Option("--out", help="Where to write one JSON object per row (.jsonl).")],
    text_column: Annotated[str, typer.Option(help="Column with the ticket text.")] = "text",
    subject_column: Annotated[str | None, typer.Option(help="Optional subject column.")] = None,
    customer_id_column: Annotated[
        str | None, typer.Option(help="Optional column with your helpdesk's customer id (for `sift forget`).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=1024, help="Tickets per pipeline batch.")] = 64,
    knowledge_base: KnowledgeBaseOption = None,
    id_column: Annotated[
        str | None,
        typer.Option(help="Column with your ticket id (the output's ticket_id); default: row number + content hash."),
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="Keep what --out already holds and skip those ticket ids (--no-resume: overwrite).")
    ] = True,
    ray: Annotated[bool, typer.Option("--ray", help="Run the batches on Ray workers (a local Ray unless --ray-address).")] = False,
    ray_address: Annotated[
        str | None, typer.Option(help="Join this Ray cluster: auto, HOST:PORT or ray://HOST:PORT (implies --ray).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Ray workers (one pipeline each); default: the CPUs / encoder_threads.")
    ] = None,
) -> None:
    """Triage every row offline in batches; output rows keep input order, refused rows carry an error.

    A run interrupted (even by kill -9) resumes where it stopped when run again with the same --out.
    The output file is owner-only and its PII spans are masked, like the ticket log.
    """
    from engine.backfill.driver import run_backfill
    from engine.backfill.output import ResumableOutput
    from engine.backfill.rows import Columns, check_columns, prepared

    if not data.is_file():
        raise InvalidInput("DATA", f"{data} does not exist or is not a file")
    use_ray = ray or ray_address is not None
    if workers is not None and not use_ray:
        raise InvalidInput("--workers", "counts Ray workers: add --ray")
    kb_name = _knowledge_base(knowledge_base).name
    columns = Columns(text_column, subject_column, customer_id_column, id_column)
    check_columns(data, columns)

    def rows() -> Iterator[Any]:
        return prepared(data, columns, kb_name)

    with ResumableOutput(out_path, resume) as output:
        if output.dropped_torn_line:
            err.print(f"{out_path}: dropped an unfinished last line (the run before was interrupted)")
        if use_ray:
            summary = _backfill_on_ray(rows, output, batch_size, ray_address, workers)
        else:
            from engine.backfill.work import LocalRunner

            summary = run_backfill(rows, output, LocalRunner(_service), batch_size, err)
    skipped = f"; {summary.already_done} already there" if summary.already_done else ""
    repeated = f"; {summary.repeated} rows skipped (repeated ticket id)" if summary.repeated else ""
    refused = f" ({summary.refused} rows refused: empty text)" if summary.refused else ""
    out.print(f"wrote {summary.written} results to {out_path}{refused}{skipped}{repeated}")
    if summary.foreign:
        err.print(
            f"[yellow]warning:[/yellow] {summary.foreign} lines of {out_path} are for rows this input no longer has "
            "(edited or removed since): --no-resume writes a fresh file"
        )


def _backfill_on_ray(
    rows: Callable[[], Iterator[Any]], output: Any, batch_size: int, address: str | None, workers: int | None
) -> Any:
    """The backfill on Ray workers (started on the first batch left to do; stopped however the run ends)."""
    from engine.backfill.driver import run_backfill
    from engine.backfill.on_ray import RayRunner

    runner = RayRunner(get_settings(), address, workers)
    try:
        return run_backfill(rows, output, runner, batch_size, err, "triaging on Ray")
    finally:
        runner.close()


@app.command("eval")
@fails_cleanly
def evaluate(
    data: Annotated[Path, typer.Argument(help="Labelled tickets: .csv, .tsv, .jsonl, or a helpdesk export (as `sift train`).")],
    topic_column: Annotated[
        str, typer.Option(help="Column with the topic label; for exports a field, 'tag:PREFIX' or 'custom_field:ID'.")
    ],
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="The report: .html to read, .json for the figures alone \\[default: published]."),
    ] = None,
    publish: Annotated[
        bool,
        typer.Option(help="Also publish the HTML report into the reports folder, where the console lists it "
                     "(the default without --out)."),
    ] = False,
    text_column: Annotated[
        str | None, typer.Option(help="Column with the ticket text (--format auto; default: text).")
    ] = None,
    urgency_column: Annotated[str | None, typer.Option(help="Optional column with the urgency label.")] = None,
    subject_column: Annotated[
        str | None, typer.Option(help="Optional subject column, prefixed to the text (--format auto).")
    ] = None,
    language_column: Annotated[str | None, typer.Option(help="Optional column with the language (e.g. en, de-AT).")] = None,
    sentiment_column: Annotated[
        str | None, typer.Option(help="Optional column with the sentiment: negative, neutral or positive.")
    ] = None,
    article_column: Annotated[
        str | None, typer.Option(help="Optional column with the id of the article that answers the ticket.")
    ] = None,
    fmt: Annotated[
        TrainFormat, typer.Option("--format", help="auto (CSV/TSV/JSONL), zendesk (JSON export), freshdesk (CSV).")
    ] = TrainFormat.auto,
    compare: Annotated[
        Path | None, typer.Option(help="A previous run's .json report: shown side by side, changes highlighted.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=1024, help="Tickets per pipeline batch.")] = 64,
) -> None:
    """Triage a labelled set with the active heads and report per-class scores, calibration, handoff and latency.

    The tickets run through the pipeline in-process and are not stored in the ticket log.
    """
    from engine.bootstrap import ensure_ready
    from engine.pipeline import Pipeline
    from engine.report import evaluation

    if out_path is not None and out_path.suffix.lower() not in {".html", ".htm", ".json"}:
        raise InvalidInput("--out", f"must end in .html or .json; got {out_path.name!r}")
    other = evaluation.read_report(compare) if compare is not None else None
    columns = {
        name: column
        for name, column in (
            ("topic", topic_column), ("urgency", urgency_column), ("language", language_column),
            ("sentiment", sentiment_column), ("article", article_column),
        )
        if column
    }
    labelled = evaluation.read_labelled_set(data, fmt.value, columns, text_column, subject_column)
    settings = get_settings()
    pipeline = Pipeline(settings)
    ensure_ready(pipeline.registry)
    with progress_bar() as bar:
        task = bar.add_task("triaging", total=len(labelled.texts))
        results, per_ticket_ms, batches = evaluation.triage(
            pipeline.run, labelled.texts, batch_size, lambda n: bar.advance(task, n)
        )
    report = evaluation.build_report(
        labelled, results, per_ticket_ms, batches, data.name, settings.pii_keep_last_digits,
        pipeline.registry.encoder.id, settings.out_of_scope_label,
    )
    report["gaps"] = _eval_gaps(pipeline, labelled.texts, results, settings)
    drafts = evaluation.draft_edit_figures(settings.database)
    if drafts is not None:
        report["draft_edits"] = drafts
    table = Table(title=f"{data.name}: {report['tickets']} tickets")
    table.add_column("figure")
    table.add_column("this run", justify="right")
    if other is not None:
        table.add_column("compared", justify="right")
        table.add_column("change", justify="right")
    colour = {"better": "green", "worse": "red", "same": "white"}
    for row in evaluation.headlines(report, other):
        cells = [row["name"], f"{row['this']:.4g}" if row["this"] is not None else "-"]
        if other is not None:
            cells.append(f"{row['other']:.4g}" if row["other"] is not None else "-")
            delta = row["delta"]
            cells.append(f"[{colour[row['verdict']]}]{delta:+.4g}[/]" if delta is not None else "-")
        table.add_row(*cells)
    out.print(table)
    if out_path is not None:
        evaluation.write(report, out_path, other)
        out.print(f"wrote {out_path}")
    if publish or out_path is None:
        published = _published_path(settings, "eval")
        evaluation.write(report, published, other)
        out.print(f"published {published} (the console lists it under Reports)")


def _published_path(settings: Settings, kind: str) -> Path:
    """Where a report command publishes: a new time-stamped HTML file in ``Settings.reports_dir``."""
    from engine.privacy.owner_only import private_dir
    from engine.web.published import publish_name

    return private_dir(settings.reports_dir) / publish_name(kind)


def _imported_tickets(
    data: Path, text_column: str, subject_column: str | None, date_column: str | None, kb_name: str
) -> list[Any]:
    """Tickets from a file, triaged now (as ``triage-file`` does) so that the report knows which went unanswered."""
    from datetime import UTC, datetime

    from engine.report.gaps import LoggedTicket
    from engine.result_shape import to_jsonable
    from engine.training.data import read_rows
    from engine.types import Ticket

    if not data.is_file():
        raise InvalidInput("--from", f"{data} does not exist or is not a file")
    rows = read_rows(data)
    if rows and text_column not in rows[0]:
        raise InvalidInput(text_column, f"no column {text_column!r} in {data}; columns are {sorted(rows[0])}")
    rows = [r for r in rows if str(r.get(text_column) or "").strip()]
    now = datetime.now(UTC).isoformat()
    logged = []
    with _service() as service, progress_bar() as bar:
        task = bar.add_task("triaging imported tickets", total=len(rows))
        for start in range(0, len(rows), 64):
            chunk = rows[start : start + 64]
            tickets = [
                Ticket(
                    text=str(r[text_column]),
                    subject=(str(r.get(subject_column) or "") or None) if subject_column else None,
                    kb=kb_name,
                )
                for r in chunk
            ]
            for offset, (row, ticket, result) in enumerate(zip(chunk, tickets, service.triage(tickets), strict=True)):
                received = str(row.get(date_column) or "") if date_column else ""
                payload = {"text": ticket.text, **({"subject": ticket.subject} if ticket.subject else {})}
                logged.append(LoggedTicket(f"row-{start + offset}", received or now, payload, to_jsonable(result)))
            bar.advance(task, len(chunk))
    return sorted(logged, key=lambda t: t.received_at)


def _eval_gaps(pipeline: Any, texts: list[str], results: list[Any], settings: Settings) -> dict[str, Any]:
    """The gap report over the evaluated tickets (masked, top groups only): the KB's misses on this set."""
    from datetime import UTC, datetime

    from engine.report.gaps import LoggedTicket, SectionVectors, find_gaps, mask_report, summary
    from engine.result_shape import to_jsonable

    now = datetime.now(UTC).isoformat()
    tickets = [
        LoggedTicket(f"row-{i}", now, {"text": text}, to_jsonable(result))
        for i, (text, result) in enumerate(zip(texts, results, strict=True))
    ]
    index = pipeline.knowledge_bases.retriever().index
    sections = SectionVectors([c.article_id for c in index.chunks], index.vectors(list(range(len(index.chunks)))))
    report = find_gaps(
        tickets, _encode_with_progress(pipeline.registry, "grouping unanswered tickets"),
        pipeline.policy.thresholds.answer_confidence, sections=sections,
    )
    return summary(mask_report(report, settings.pii_keep_last_digits))


@app.command()
@fails_cleanly
def gaps(
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Also write the report: .html for KB writers, .json for tools.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Only tickets received on or after this date (YYYY-MM-DD).")] = None,
    min_tickets: Annotated[
        int | None,
        typer.Option(min=1, help="Fewest tickets asking one of a gap's questions alike for it to be reported \\[default: 3]."),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            min=2, max=20_000, help="Most recent unanswered tickets to group; memory grows with its square \\[default: 5000]."
        ),
    ] = None,
    distance: Annotated[
        float | None,
        typer.Option(min=0.01, max=1.0, help="Average cosine distance under which tickets share a gap \\[default: 0.12]."),
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--from", help="Tickets from a file (.csv, .tsv, .jsonl) instead of the ticket log; triaged first."),
    ] = None,
    text_column: Annotated[str, typer.Option(help="With --from: the column with the ticket text.")] = "text",
    subject_column: Annotated[str | None, typer.Option(help="With --from: an optional subject column.")] = None,
    date_column: Annotated[
        str | None, typer.Option(help="With --from: an optional ISO date column, for the trend (default: now).")
    ] = None,
    knowledge_base: KnowledgeBaseOption = None,
    publish: Annotated[
        bool, typer.Option(help="Also publish the HTML report into the reports folder, where the console lists it.")
    ] = False,
) -> None:
    """KB gaps: groups of triaged tickets no article answered, ranked by volume x trend, with the nearest article
    to extend, a suggested title and outline; then follow-ups on the last report and the KB's hygiene."""
    from datetime import date

    from engine.models.registry import ModelRegistry
    from engine.report.gap_run import GapOptions, article_ratings, build_report, logged_tickets
    from engine.report.gaps import DISTANCE_THRESHOLD, MAX_TICKETS, MIN_TICKETS, mask_report, write
    from engine.retrieve.index import KBIndex
    from engine.route import load_policy

    if since is not None:
        try:
            date.fromisoformat(since)
        except ValueError:
            raise SiftError(f"--since must be a date as YYYY-MM-DD; got {since!r}") from None
    settings = get_settings()
    min_tickets = min_tickets or MIN_TICKETS
    kb = _knowledge_base(knowledge_base)
    if from_file is not None:
        tickets = _imported_tickets(from_file, text_column, subject_column, date_column, kb.name)
    else:
        tickets = logged_tickets(settings, since)
    registry = ModelRegistry(settings)
    options = GapOptions(
        load_policy(settings.routing_file).thresholds.answer_confidence, min_tickets, distance or DISTANCE_THRESHOLD,
        limit or MAX_TICKETS, since, keep_state=from_file is None,
    )
    report = build_report(
        tickets, kb.name, KBIndex.current(kb.index_dir, registry.encoder.id, lexical=False),
        _encode_with_progress(registry, "encoding tickets"), _encode_with_progress(registry, "encoding sections"),
        article_ratings(settings), options, settings.data_dir,
    )
    report = mask_report(report, settings.pii_keep_last_digits)
    _print_gaps(report, kb.name, min_tickets)
    if out_path is not None:
        write(report, out_path, settings.pii_keep_last_digits)
        out.print(f"wrote {out_path}")
    if publish:
        published = _published_path(settings, "gaps")
        write(report, published, settings.pii_keep_last_digits)
        out.print(f"published {published} (the console lists it under Reports)")


def _print_gaps(report: Any, kb_name: str, min_tickets: int) -> None:
    grouped = f", the latest {report.clustered} grouped" if report.clustered < report.unanswered else ""
    table = Table(
        title=f"KB gaps: {report.unanswered} of {report.tickets_read} tickets unanswered{grouped} ({kb_name})"
    )
    for column in ("tickets", "trend/wk", "suggested title", "keywords", "languages", "nearest article (cosine)"):
        table.add_column(column, justify="right" if column in ("tickets", "trend/wk") else "left")
    for gap in report.gaps:
        table.add_row(
            str(gap.tickets),
            f"{gap.trend.slope:+.2g}",
            gap.suggested_title,
            ", ".join(gap.keywords),
            " ".join(f"{code} {n}" for code, n in gap.languages.items()),
            f"{gap.nearest_article or 'none'} ({gap.nearest_similarity})",
        )
    out.print(table if report.gaps else f"{table.title}: no group of {min_tickets} or more asks the same thing")
    for gap in report.answered_elsewhere:
        out.print(
            f"update {gap.nearest_article or 'none'}: {gap.tickets} unanswered tickets ask what it answers for "
            f"{gap.answered_nearby:.0%} of others ({gap.suggested_title})"
        )
    for f in report.followups:
        share = "no tickets since" if f.answered_share is None else f"{f.answered_share:.0%} of {f.tickets_since} answered"
        out.print(f"follow-up: a gap of {f.previous_tickets} tickets now meets {f.article} ({f.similarity}): {share}")
    checks = report.hygiene
    for pair in checks.duplicates:
        out.print(f"near-duplicate: {pair.first} / {pair.second} ({pair.similarity})")
    for pair in checks.contradictions:
        out.print(f"possible contradiction: {pair.first} / {pair.second} (question {pair.similarity}, answer {pair.answer_similarity})")
    if checks.contradictions:
        out.print(checks.contradiction_note)
    for s in checks.stale:
        out.print(f"stale: {s.article} updated {s.updated}, top suggestion {s.suggested}x, unhelpful {s.unhelpful}/{s.rated}")


@models_app.command("list")
@fails_cleanly
def models_list() -> None:
    """Every trained head version, the active one marked."""
    from engine.classify import HEAD_NAMES
    from engine.models.heads import active_version

    settings = get_settings()
    table = Table(title=f"heads in {settings.heads_dir}")
    for column in ("head", "version", "active", "examples", "metrics"):
        table.add_column(column)
    for name in HEAD_NAMES:
        folder = settings.heads_dir / name
        active = active_version(settings.heads_dir, name)
        for version in sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []:
            meta = json.loads((folder / version / "meta.json").read_text())
            metrics = ", ".join(f"{k}={v}" for k, v in meta.get("metrics", {}).items())
            table.add_row(name, version, "*" if version == active else "", str(meta["n_examples"]), metrics)
    out.print(table)


@models_app.command("convert")
@fails_cleanly
def models_convert(
    force: Annotated[bool, typer.Option("--force", help="Convert again even if an up-to-date conversion exists.")] = False,
) -> None:
    """Convert the shipped encoder to ONNX (fp32 + int8) and a transformers checkpoint, checking parity."""
    from engine.bootstrap import ensure_encoder
    from engine.models.convert import ConversionReport

    settings = get_settings()
    if settings.encoder_backend != "onnx" and not force:
        out.print(f"encoder_backend is {settings.encoder_backend!r}: nothing to convert (use --force to convert anyway)")
        return
    with err.status("converting the shipped encoder and checking parity against it"):
        report = ensure_encoder(settings.model_copy(update={"encoder_backend": "onnx"}), force=force)
    if report is None:
        report = ConversionReport.read(settings.encoder_dir)
        out.print(f"up to date: {settings.encoder_dir}")
    else:
        out.print(f"converted into {settings.encoder_dir}")
    assert report is not None
    for precision, parity in report.parity.items():
        out.print(
            f"parity {precision}: mean cosine {parity.mean_cosine:.5f}, min {parity.min_cosine:.5f} "
            f"over {parity.sentences} texts"
        )


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


@macros_app.command("lint")
@fails_cleanly
def macros_lint(
    folder: Annotated[
        Path | None, typer.Argument(help="The macros folder; default: the macros_dir setting.", show_default=False)
    ] = None,
) -> None:
    """Check every macro: front matter, file name, Jinja2 syntax and undefined variables (exit 2 on any problem)."""
    from engine.macros import lint

    folder = folder or get_settings().macros_dir
    if folder is None:
        raise InvalidInput("macros_dir", "no macros folder: name one, or set macros_dir")
    macros, problems = lint(folder)
    if not macros and not problems:
        raise InvalidInput("macros_dir", f"no macros (<id>.<language>.j2) in {folder}")
    for problem in problems:
        err.print(f"[red]error:[/red] {escape(str(problem))}", highlight=False)
    languages = sorted({m.language for m in macros})
    summary = f"{len(macros)} macro(s) fine in {folder} ({', '.join(languages) or 'no language'})"
    if problems:
        err.print(f"{len(problems)} problem(s); {summary}")
        raise typer.Exit(2)
    out.print(summary)


@feedback_app.command("export")
@fails_cleanly
def feedback_export(
    out_path: Annotated[Path, typer.Option("--out", help="Where to write one JSON object per feedback (.jsonl).")],
) -> None:
    """Every feedback, oldest first, with its ticket's (masked) text and subject and the prediction it corrects.

    The file is owner-only; text and comments are masked again on the way out, for logs stored before masking.
    """
    from engine.privacy.owner_only import open_private
    from engine.privacy.redact import redact_text
    from engine.store import FeedbackStore

    settings = get_settings()
    keep = settings.pii_keep_last_digits
    store = FeedbackStore(settings.database)
    try:
        records = store.records()
    finally:
        store.close()
    with open_private(out_path) as fh:
        for record in records:
            row = record.to_json()
            # Stored text is masked already, but a log written before masking existed is not.
            for name in ("text", "subject", "comment"):
                if isinstance(row.get(name), str):
                    row[name] = redact_text(row[name], keep)
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    out.print(f"wrote {len(records)} feedback rows to {out_path}")


@feedback_app.command("list")
@fails_cleanly
def feedback_list(
    ticket: Annotated[str | None, typer.Option(help="Only the feedback on this ticket id.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only feedback given at or after this ISO-8601 time (UTC unless it says).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many rows.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many rows first (the next page).")] = 0,
) -> None:
    """Stored feedback, newest first, as the table holds it: rows that no longer validate are listed too."""
    from datetime import datetime

    from engine.store import FeedbackStore

    try:
        moment = datetime.fromisoformat(since) if since is not None else None
    except ValueError:
        raise InvalidInput("--since", f"{since!r} is not an ISO-8601 time, e.g. 2026-01-31T09:00") from None
    store = FeedbackStore(get_settings().database)
    try:
        page = store.page(ticket, moment, limit, offset)
    finally:
        store.close()
    table = Table(title=f"feedback {offset + 1 if page.rows else 0}-{offset + len(page.rows)} of {page.total}")
    for column in ("id", "created", "ticket", "agent", "topic", "urgency", "handoff", "article", "helped", "draft"):
        table.add_column(column)

    def shown(value: Any) -> str:
        return "" if value is None else str(value)

    for row in page.rows:
        table.add_row(*(shown(row[name]) for name in (
            "id", "created_at", "ticket_id", "agent_id", "topic", "urgency", "handoff", "article_id",
            "article_helped", "draft_helped",
        )))
    out.print(table if page.rows else f"no feedback at offset {offset}: {page.total} rows match")


@feedback_app.command("delete")
@fails_cleanly
def feedback_delete(feedback_id: Annotated[str, typer.Argument(help="The feedback's id (`sift feedback list`).")]) -> None:
    """Delete one feedback for good, e.g. a row a training run warned about; the ticket stays."""
    from engine.store import FeedbackStore

    store = FeedbackStore(get_settings().database)
    try:
        deleted = store.delete(feedback_id)
    finally:
        store.close()
    if not deleted:
        raise InvalidInput("FEEDBACK_ID", f"no feedback {feedback_id!r} (see `sift feedback list`)")
    out.print(f"deleted feedback {feedback_id}")


@app.command()
@fails_cleanly
def purge(
    older_than_days: Annotated[
        int | None,
        typer.Option(min=1, max=36_500, help="Erase tickets received more than this many days ago \\[default: retention_days]."),
    ] = None,
) -> None:
    """Erase tickets older than the retention period, with their results and feedback (run it daily)."""
    from engine.store.erasure import purge as purge_log

    settings = get_settings()
    days = older_than_days or settings.retention_days
    erased = purge_log(settings.database, days)
    out.print(f"erased {erased.tickets} tickets and {erased.feedback} feedback rows older than {days} days")


@app.command()
@fails_cleanly
def forget(
    customer: Annotated[
        str | None, typer.Option("--customer", help="The customer id given as customer_id when their tickets came in.")
    ] = None,
    ticket: Annotated[
        list[str] | None, typer.Option("--ticket", help="A ticket id (the triage result's `id`); repeatable.")
    ] = None,
) -> None:
    """Erase a customer's tickets (or the given tickets) with their results and feedback, for good."""
    from engine.privacy.keys import customer_key, data_key
    from engine.store.erasure import forget_customer, forget_tickets

    if (customer is None) == (not ticket):
        raise InvalidInput("--customer", "give either --customer ID or one or more --ticket ID")
    settings = get_settings()
    if customer is not None:
        if not customer.strip():
            raise InvalidInput("--customer", "must not be blank")
        erased = forget_customer(settings.database, customer_key(customer, data_key(settings.data_dir)))
        whose = "the customer's"
    else:
        ids = [t.strip() for t in ticket or []]
        if not all(ids):
            raise InvalidInput("--ticket", "must not be blank")
        erased = forget_tickets(settings.database, ids)
        whose = "the given"
    out.print(f"erased {erased.tickets} of {whose} tickets and {erased.feedback} feedback rows")


@contextmanager
def _database() -> Iterator[tuple[Any, str]]:
    """The configured database, opened, and how to name it to the user (the SQLite path or the server)."""
    from engine.store.db import connect, describe

    location = get_settings().database
    database = connect(location)
    try:
        yield database, describe(location)
    finally:
        database.close()


@db_app.command("current")
@fails_cleanly
def db_current() -> None:
    """The database's schema revision and this release's newest; changes nothing."""
    from engine.store.migrate import current, head

    with _database() as (database, name):
        revision = current(database)
    state = "up to date" if revision == head() else f"this release upgrades it to {head()} when it opens it"
    out.print(f"{name}: schema revision {revision or 'none'} ({state})")


@db_app.command("upgrade")
@fails_cleanly
def db_upgrade() -> None:
    """Bring the database's schema to this release's (every command that opens the database does it too)."""
    from engine.store.migrate import head, upgrade

    with _database() as (database, name):
        before = upgrade(database)
    change = "already up to date" if before == head() else f"upgraded from {before or 'none'}"
    out.print(f"{name}: schema revision {head()} ({change})")


def _topic_labels(settings: Settings) -> list[str] | None:
    """The active topic head's labels, or None when the data directory has no trained topic head."""
    from engine.models.heads import active_version

    version = active_version(settings.heads_dir, "topic")
    meta = settings.heads_dir / "topic" / str(version) / "meta.json"
    return list(json.loads(meta.read_text(encoding="utf-8"))["labels"]) if version and meta.is_file() else None


def _checked_policy(path: Path, topics: list[str] | None) -> tuple[Any, list[Any]]:
    """The policy in ``path`` and its warnings (``topics``: the trained head's, checked against when known);
    its errors (line-numbered) refuse it with exit code 2."""
    from engine.route.check import check_policy

    if not path.is_file():
        raise InvalidInput("FILE", f"{path} does not exist or is not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("FILE", f"{path} is not UTF-8 text") from None
    policy, problems = check_policy(text, topics)
    if policy is None:
        raise InvalidInput("FILE", f"{path} is not a valid routing policy:\n" + "\n".join(f"  {p}" for p in problems))
    return policy, problems


@policy_app.command("check")
@fails_cleanly
def policy_check(file: Annotated[Path, typer.Argument(help="A routing policy YAML file.")]) -> None:
    """Validate a routing policy: errors and warnings with their line; exit code 0 if usable, 2 if not.

    Topics are checked against the active topic head's labels when the data directory has one.
    """
    labels = _topic_labels(get_settings())
    _, warnings = _checked_policy(file, labels)
    for problem in warnings:
        err.print(f"[yellow]{file}:[/yellow] {problem}")
    topics = "" if labels is not None else " (topics not checked: no trained topic head)"
    out.print(f"{file}: valid routing policy, {len(warnings)} warning{'s' * (len(warnings) != 1)}{topics}")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


@policy_app.command("simulate")
@fails_cleanly
def policy_simulate(
    file: Annotated[Path, typer.Argument(help="The routing policy to try.")],
    data: Annotated[Path, typer.Argument(help="Labelled past tickets: .csv, .tsv or .jsonl.")],
    topic_column: Annotated[str, typer.Option(help="Column with the topic an agent gave the ticket.")],
    text_column: Annotated[str, typer.Option(help="Column with the ticket text.")] = "text",
    queue_column: Annotated[
        str | None, typer.Option(help="Optional column with the queue the ticket belonged in (a wrong queue is an error).")
    ] = None,
    language_column: Annotated[
        str | None, typer.Option(help="Optional column with the ticket's language (default: the detected one).")
    ] = None,
    ignore_reason: Annotated[
        list[str] | None,
        typer.Option(help="A handoff reason to replay as not handing off, e.g. no_confident_article when the KB is "
                     "not the one these tickets were answered from; repeatable."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of tables.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=1024, help="Tickets per pipeline batch.")] = 64,
) -> None:
    """Replay labelled past tickets under a policy: automation and error rates per queue and language, and the
    operating points of the topic-confidence threshold.

    The models run once (with FILE's model-side thresholds: out_of_scope, risk); each variant only re-decides.
    Nothing is written to the ticket log.
    """
    from engine.bootstrap import ensure_ready
    from engine.pipeline import Pipeline
    from engine.route.router import HANDOFF_RULES
    from engine.route.simulate import TUNABLE_THRESHOLDS, Truth, operating_points, replay
    from engine.training.data import read_rows
    from engine.types import Ticket

    settings = get_settings()
    policy, _ = _checked_policy(file, _topic_labels(settings))
    if not data.is_file():
        raise InvalidInput("DATA", f"{data} does not exist or is not a file")
    known = {code.split(":")[0] for code in HANDOFF_RULES}
    for reason in ignore_reason or []:
        if reason.split(":")[0] not in known:
            raise InvalidInput("--ignore-reason", f"no rule hands off with {reason!r}; reasons: {', '.join(sorted(known))}")
    rows = read_rows(data)
    if not rows:
        raise InvalidInput("DATA", f"{data} holds no rows")
    for option, column in (("--text-column", text_column), ("--topic-column", topic_column),
                           ("--queue-column", queue_column), ("--language-column", language_column)):
        if column is not None and column not in rows[0]:
            raise InvalidInput(option, f"no column {column!r} in {data}; columns are {sorted(rows[0])}")

    def cell(row: dict[str, object], column: str | None) -> str | None:
        value = str(row.get(column) or "").strip() if column else ""
        return value or None

    kept = [r for r in rows if cell(r, text_column) and cell(r, topic_column)]
    if not kept:
        raise InvalidInput("DATA", f"no row of {data} has both a text and a topic")
    truths = [Truth(str(cell(r, topic_column)), cell(r, queue_column), cell(r, language_column)) for r in kept]
    pipeline = Pipeline(settings.model_copy(update={"routing_file": file}))
    ensure_ready(pipeline.registry)
    states = []
    with progress_bar() as bar:
        task = bar.add_task("triaging", total=len(kept))
        for start in range(0, len(kept), batch_size):
            chunk = kept[start : start + batch_size]
            tickets = [Ticket(text=str(cell(r, text_column))) for r in chunk]
            states += pipeline.states(tickets, [f"row-{start + i}" for i in range(len(chunk))])
            bar.advance(task, len(chunk))
    ignore = ignore_reason or []
    result = replay(states, truths, policy, ignore)
    points = {name: operating_points(states, truths, policy, ignore=ignore, name=name) for name in TUNABLE_THRESHOLDS}
    skipped = len(rows) - len(kept)
    if as_json:
        report = {"policy": str(file), "data": str(data), "skipped_rows": skipped, "ignored_reasons": ignore,
                  **result.to_json(), "operating_points": [p.to_json() for p in points["topic_confidence"]],
                  "answer_confidence_operating_points": [p.to_json() for p in points["answer_confidence"]]}
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return
    table = Table(title=f"{file} on {len(kept)} tickets of {data}" + (f" ({skipped} rows without text or topic skipped)" if skipped else ""))
    for column in ("queue", "language", "tickets", "automated", "error rate"):
        table.add_column(column, justify="left" if column in ("queue", "language") else "right")
    for queue, total in sorted(result.queues.items()):
        languages = sorted(la for q, la in result.groups if q == queue)
        for language in languages:
            c = result.groups[(queue, language)]
            table.add_row(queue, language, str(c.tickets), _pct(c.automation_rate), _pct(c.error_rate))
        if len(languages) > 1:
            table.add_row(f"[italic]{queue}", "[italic]all", str(total.tickets), _pct(total.automation_rate), _pct(total.error_rate))
    if len(result.queues) > 1:
        for language, c in sorted(result.languages.items()):
            table.add_row("[italic]all", f"[italic]{language}", str(c.tickets), _pct(c.automation_rate), _pct(c.error_rate))
    o = result.overall
    table.add_row("[bold]all", "[bold]all", str(o.tickets), _pct(o.automation_rate), _pct(o.error_rate))
    out.print(table)
    out.print("handoff reasons: " + (", ".join(f"{k} {v}" for k, v in result.reasons.most_common()) or "none"))
    for name, variants in points.items():
        current = getattr(policy.thresholds, name)
        note = " (per_topic cuts kept)" if name == "topic_confidence" else ""
        overall = Table(title=f"operating points: thresholds.{name}{note}")
        for column in ("threshold", "automated", "error rate"):
            overall.add_column(column, justify="right")
        overall.add_row(f"{current:.2f} (policy)", _pct(o.automation_rate), _pct(o.error_rate))
        for p in variants:
            overall.add_row(f"{p.threshold:.2f}", _pct(p.coverage), _pct(p.error_rate))
        out.print(overall)
        for label, rate in (("automated", "automation_rate"), ("error rate", "error_rate")):
            per_group = Table(title=f"thresholds.{name}: {label}, per queue and language",
                              caption=f"* the policy's cut, {current:.2f}")
            per_group.add_column("queue")
            per_group.add_column("lang")
            for header in ("*", *(f"{p.threshold:.2f}" for p in variants)):
                per_group.add_column(header, justify="right")
            for key, c in sorted(result.groups.items()):
                cells = [c, *(p.replay.groups[key] for p in variants)]
                per_group.add_row(*key, *(_pct0(getattr(x, rate)) for x in cells))
            out.print(per_group)


def _pct0(value: float | None) -> str:
    """A share in whole percent: the per-group tables have a column per threshold and must fit a terminal."""
    return "-" if value is None else f"{value:.0%}"


class BacktestFormat(StrEnum):
    """Where past tickets come from; ``auto`` tells CSV/TSV, JSONL and the two exports' JSON apart."""

    auto = "auto"
    csv = "csv"
    jsonl = "jsonl"
    zendesk = "zendesk"
    freshdesk = "freshdesk"


@app.command()
@fails_cleanly
def backtest(
    data: Annotated[
        Path | None,
        typer.Argument(help="Past tickets: .csv, .tsv, .jsonl, a Zendesk or Freshdesk export; omitted: the ticket log."),
    ] = None,
    from_log: Annotated[bool, typer.Option("--from-log", help="Replay the service's own ticket log.")] = False,
    fmt: Annotated[
        BacktestFormat, typer.Option("--format", help="auto, csv, jsonl, zendesk (JSON export), freshdesk (CSV or API JSON).")
    ] = BacktestFormat.auto,
    text_column: Annotated[str | None, typer.Option(help="csv/jsonl: the ticket text column (default: text).")] = None,
    subject_column: Annotated[str | None, typer.Option(help="csv/jsonl: an optional subject column.")] = None,
    queue_column: Annotated[
        str | None, typer.Option(help="The queue the ticket was handled in (recorded outcome: a different routed queue is an error).")
    ] = None,
    topic_column: Annotated[
        str | None,
        typer.Option(help="The topic an agent gave it (recorded outcome); for exports a field, 'tag:PREFIX' or 'custom_field:ID'."),
    ] = None,
    language_column: Annotated[str | None, typer.Option(help="The ticket's language (default: the detected one).")] = None,
    date_column: Annotated[
        str | None, typer.Option(help="When it was received, ISO 8601 (exports: created_at); none: no month breakdown.")
    ] = None,
    channel_column: Annotated[
        str | None, typer.Option(help="Its channel (exports: Zendesk via.channel, Freshdesk source).")
    ] = None,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="A routing policy to replay under (default: the configured one).")
    ] = None,
    ignore_reason: Annotated[
        list[str] | None,
        typer.Option(help="A handoff reason to replay as not handing off (e.g. no_confident_article); repeatable."),
    ] = None,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="The report: .html or .json (default: reports/backtest-YYYYMMDD-HHMM.html and .json)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Replay only the first N tickets (the log: the latest N).")] = None,
    since: Annotated[str | None, typer.Option(help="The log: only tickets received on or after this date (YYYY-MM-DD).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=1024, help="Tickets per pipeline batch.")] = 64,
    knowledge_base: KnowledgeBaseOption = None,
) -> None:
    """Replay past tickets through the whole pipeline: per queue, channel, language and month the share Sift would
    have automated and how often wrongly, the deflection estimate, risk handoffs and topics over time.

    Nothing is written to the ticket log. See docs/reports.md.
    """
    from datetime import date

    from engine.bootstrap import ensure_ready
    from engine.pipeline import Pipeline
    from engine.report import backtest as bt
    from engine.report.history import Columns, read_file, read_log
    from engine.route.router import HANDOFF_RULES

    settings = get_settings()
    if data is not None and from_log:
        raise InvalidInput("--from-log", "replays the ticket log; give DATA or --from-log, not both")
    if out_path is not None and out_path.suffix.lower() not in {".html", ".htm", ".json"}:
        raise InvalidInput("--out", f"must end in .html or .json; got {out_path.name!r}")
    known = {code.split(":")[0] for code in HANDOFF_RULES}
    for reason in ignore_reason or []:
        if reason.split(":")[0] not in known:
            raise InvalidInput("--ignore-reason", f"no rule hands off with {reason!r}; reasons: {', '.join(sorted(known))}")
    if since is not None:
        try:
            date.fromisoformat(since)
        except ValueError:
            raise InvalidInput("--since", f"must be a date as YYYY-MM-DD; got {since!r}") from None
    policy_path = policy_file or settings.routing_file
    policy, _ = _checked_policy(policy_path, _topic_labels(settings))
    if data is None:
        options = (("--text-column", text_column), ("--subject-column", subject_column), ("--queue-column", queue_column),
                   ("--topic-column", topic_column), ("--language-column", language_column),
                   ("--date-column", date_column), ("--channel-column", channel_column))
        named = [option for option, value in options if value]
        if named:
            raise InvalidInput(named[0], "applies to a file; the ticket log has its own fields")
        history = read_log(settings, since, limit)
    else:
        if since is not None:
            raise InvalidInput("--since", "applies to the ticket log; a file is replayed whole (see --limit)")
        columns = Columns(text_column, subject_column, queue_column, topic_column, language_column, date_column,
                          channel_column)
        kb = _knowledge_base(knowledge_base).name if knowledge_base else None
        history = read_file(data, fmt.value, columns, kb, limit)
    pipeline = Pipeline(settings.model_copy(update={"routing_file": policy_path}))
    ensure_ready(pipeline.registry)
    with progress_bar() as bar:
        task = bar.add_task("replaying", total=len(history.tickets))
        replayed = bt.replay(
            pipeline.run, history.tickets, policy, ignore_reason or [], batch_size, lambda n: bar.advance(task, n)
        )
    report = bt.build_report(
        history, replayed, policy, str(policy_path), ignore_reason or [], settings.pii_keep_last_digits,
        pipeline.registry.encoder.id,
    )
    _print_backtest(report)
    paths = [out_path] if out_path is not None else [p := bt.default_path(settings.reports_dir), p.with_suffix(".json")]
    for path in paths:
        bt.write(report, path)
        out.print(f"wrote {path}")


def _print_backtest(report: dict[str, Any]) -> None:
    table = Table(title=f"backtest of {report['data']}: {report['tickets']} tickets")
    for column in ("queue", "tickets", "automated", "error rate", "deflection", "risk handoffs"):
        table.add_column(column, justify="left" if column == "queue" else "right")
    for g in [*report["by"]["queue"][:15], {"key": "[bold]all", **report["overall"]}]:
        table.add_row(g["key"], str(g["tickets"]), _pct(g["automation_share"]), _pct(g["error_rate"]),
                      _pct(g["deflection_estimate"]), _pct(g["risk_share"]))
    out.print(table)
    if not report["by"]["month"]:
        out.print("no dates: no month breakdown")
    for note in report["source"]["notes"]:
        err.print(f"[yellow]note:[/yellow] {note}")


@translate_app.command("install")
@fails_cleanly
def translate_install(
    file: Annotated[Path, typer.Argument(help="An Argos Translate package file (.argosmodel) you downloaded.")],
) -> None:
    """Install an Argos package from a file; no package index is ever contacted. Running servers see it on their
    next translation."""
    from engine.translate.argos import ArgosTranslator, install_package

    if not ArgosTranslator.available():
        raise SiftError("Argos packages run on CTranslate2, which is not installed: pip install ctranslate2==4.8.5")
    package = install_package(file, _settings().translate_dir / "argos")
    out.print(f"installed Argos package {package.source}->{package.target} {package.version} in {package.path}")
    if "argos" not in _settings().translators:
        err.print("[yellow]note:[/yellow] 'argos' is not in the translators setting, so it will not be used")


@translate_app.command("list")
@fails_cleanly
def translate_list() -> None:
    """The configured backends in the order they are tried, whether each is installed, and its pairs."""
    from engine.translate.chain import BACKENDS

    settings = _settings()
    table = Table(title="Translation backends (the KB's own translations always come first)")
    for column in ("order", "backend", "installed", "pairs"):
        table.add_column(column)
    usable = 0
    for name, (available, make) in BACKENDS.items():
        order = str(settings.translators.index(name) + 1) if name in settings.translators else "off"
        pairs = make(settings).pairs() if available() else []
        usable += bool(pairs) and name in settings.translators
        table.add_row(order, name, "yes" if available() else "no", ", ".join(f"{a}->{b}" for a, b in pairs) or "-")
    out.print(table)
    if not usable:
        out.print("no translation pair is in use: drafts in another language are marked 'unavailable' and handed off")


@keys_app.command("create")
@fails_cleanly
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what uses it, e.g. 'zendesk-prod' or 'shop-widget'.")],
    scope: Annotated[
        list[str],
        typer.Option(help="What it may call: triage, suggest, feedback, admin (repeat the option for several)."),
    ],
    origin: Annotated[
        list[str] | None,
        typer.Option(
            help="A site whose pages may call with it from a browser, e.g. https://shop.example (repeatable; "
            "only for a key whose one scope is suggest: the help widget's)."
        ),
    ] = None,
    tenant: Annotated[
        str | None,
        typer.Option(help="The tenant it acts for (settings.tenants); default: the one `sift --tenant` names."),
    ] = None,
) -> None:
    """Create a key and print it once: only its hash is kept. With the first key, every call needs one."""
    from engine.store.keys import KeyStore

    settings = get_settings()
    if tenant is not None and tenant not in settings.tenant_names():
        raise InvalidInput("--tenant", f"no tenant {tenant!r}; the tenants are {', '.join(settings.tenant_names())}")
    store = KeyStore(settings.keys_database)
    try:
        key, secret = store.create(name, scope, origin, tenant or settings.tenant)
    finally:
        store.close()
    sites = f" for pages on {', '.join(key.origins)}" if key.origins else ""
    out.print(
        f"created key {key.id} ({key.name}) for tenant {key.tenant} with scopes {', '.join(key.scopes)}{sites}; "
        "it is shown only now:"
    )
    sys.stdout.write(secret + "\n")


@keys_app.command("list")
@fails_cleanly
def keys_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, for scripts.")] = False,
) -> None:
    """Every key with its tenant, scopes and whether it is revoked; never the key itself."""
    from dataclasses import asdict

    from engine.store.keys import KeyStore

    store = KeyStore(get_settings().keys_database)
    try:
        keys = store.list()
    finally:
        store.close()
    if as_json:
        sys.stdout.write(json.dumps([asdict(key) for key in keys], ensure_ascii=False) + "\n")
        return
    table = Table(title="API keys")
    for column in ("id", "name", "tenant", "starts with", "scopes", "origins", "created", "revoked"):
        table.add_column(column)
    for key in keys:
        table.add_row(
            key.id, key.name, key.tenant, key.prefix + "…", ", ".join(key.scopes), " ".join(key.origins),
            key.created_at, key.revoked_at or "",
        )
    out.print(table if keys else "no API keys: the API is open, so `sift serve` binds to loopback only")


@keys_app.command("revoke")
@fails_cleanly
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (`sift keys list`).")]) -> None:
    """Revoke a key; running servers refuse it within seconds."""
    from engine.store.keys import KeyStore

    store = KeyStore(get_settings().keys_database)
    try:
        key = store.revoke(key_id)
    finally:
        store.close()
    out.print(f"revoked key {key.id} ({key.name}) at {key.revoked_at}")


if __name__ == "__main__":  # `python -m engine.cli`: the checkout's code, whichever one `sift` was installed from
    app()
