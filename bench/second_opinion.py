"""langdetect's own loop against its numpy form, on the texts the language stage actually sends it.

Those are the benchmark tickets where py3langid is unsure (short, ambiguous ones, about 3%): the language stage
is run over the tickets with the registry's langdetect wrapped to record what it is asked, then both forms
answer each recorded text, alternating, best of ``--repeats``, and their answers are compared.

    .venv/bin/python -m bench.second_opinion --tickets 300
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bench.tickets import draw_tickets

app = typer.Typer(add_completion=False)


def asked_texts(texts: list[str]) -> list[str]:
    """The texts among ``texts`` that the language stage, as configured, passes to langdetect."""
    from engine.language import LanguageDetector
    from engine.models.registry import ModelRegistry
    from engine.settings import Settings

    settings = Settings()
    registry = ModelRegistry(settings)
    detector = LanguageDetector.from_settings(registry, settings)
    asked: list[str] = []
    real = registry.langdetect
    registry.__dict__["langdetect"] = lambda text: asked.append(text) or real(text)  # the cached property's slot
    for text in texts:
        detector.detect(text)
    return asked


def best_ms(detect: Callable[[str], Any], text: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        detect(text)
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


@app.command()
def main(
    tickets: Annotated[int, typer.Option(min=1)] = 300,
    repeats: Annotated[int, typer.Option(min=1)] = 5,
    seed: int = 6,
) -> None:
    from langdetect.detector import Detector
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    from engine.models.langdetect_model import DetectLangs, NumpyDetector, Profiles, _same
    from engine.normalise import Normaliser
    from engine.types import Ticket

    texts = [Normaliser.normalise(Ticket(text=t.text, subject=t.subject)).text for t in draw_tickets(tickets, seed)]
    asked = asked_texts(texts)
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(0)
    library, numpy_form = DetectLangs(factory, Detector), DetectLangs(Profiles.of(factory), NumpyDetector)
    rows = []
    for text in asked:
        slow, fast = best_ms(library, text, repeats), best_ms(numpy_form, text, repeats)
        rows.append((text, slow, fast, _same(numpy_form(text), library(text))))

    table = Table(title=f"langdetect second opinions: {len(asked)} of {tickets} benchmark tickets, best of {repeats}")
    for heading in ("text", "chars", "langdetect, ms", "numpy form, ms", "same answer"):
        table.add_column(heading, justify="left" if heading == "text" else "right", no_wrap=True)
    for text, slow, fast, same in rows:
        table.add_row(text[:30], str(len(text)), f"{slow:.1f}", f"{fast:.1f}", "yes" if same else "[red]no[/red]")
    if rows:
        table.add_row(
            "mean", "", f"{statistics.mean(r[1] for r in rows):.1f}", f"{statistics.mean(r[2] for r in rows):.1f}",
            f"{sum(r[3] for r in rows)} of {len(rows)}",
        )
        table.add_row("max", "", f"{max(r[1] for r in rows):.1f}", f"{max(r[2] for r in rows):.1f}", "")
    Console().print(table)
    if not all(r[3] for r in rows):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
