"""Language identification on public data: accuracy per data set and language, and time per text.

Run from the repo root:  .venv/bin/python -m eval.language
Writes eval/results/language.json. The detector's two settings (the prior on expected languages and the
confidence below which langdetect is asked too) are chosen on validation splits (xSID valid, UMSAB val) and
reported on test data: xSID test (voice-assistant requests, 9 languages), UMSAB test (tweets, 4), XQuAD
questions (7) and tickets-multilang (e-mail tickets, en/de). Several of these languages (tr, zh, ar, ja, ru,
hi) are not in the default expected list: a helpdesk still needs them named to route the ticket.
tickets-multilang's labels are noisy: about 360 of its tickets labelled ``de`` are English e-mails, which caps every
detector near 0.91 there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from engine.language import LanguageDetector
from engine.models.registry import ModelRegistry
from engine.settings import Settings
from eval.datasets import SHARED, UMSAB_LANGS, XQUAD_LANGS, tickets_multilang, umsab, xquad, xsid

RESULTS = Path(__file__).parent / "results" / "language.json"
XSID_LANGS = ("en", "de", "da", "nl", "it", "tr", "zh", "ar", "ja")
PRIORS = (1.0, 5.0, 20.0, 50.0)
SECOND_OPINION = (0.0, 0.9, 0.99, 0.999, 1.0)

Labelled = dict[str, list[tuple[str, str]]]


def validation_sets() -> Labelled:
    sets = {f"xsid-{lang}": [(t, lang) for t in xsid(lang, "valid")] for lang in XSID_LANGS}
    sets |= {f"umsab-{lang}": [(t, lang) for t in umsab(lang, "val")[0]] for lang in UMSAB_LANGS}
    return sets


def test_sets() -> Labelled:
    sets = {f"xsid-{lang}": [(t, lang) for t in xsid(lang, "test")] for lang in XSID_LANGS}
    sets |= {f"umsab-{lang}": [(t, lang) for t in umsab(lang, "test")[0]] for lang in UMSAB_LANGS}
    sets |= {f"xquad-{lang}": [(q, lang) for q, _ in xquad(lang)[1]] for lang in XQUAD_LANGS}
    sets["tickets-multilang"] = tickets_multilang()
    return sets


def score(detect: Callable[[str], str], sets: Labelled) -> dict[str, dict[str, float]]:
    out = {}
    for name, rows in sets.items():
        start = time.perf_counter()
        correct = sum(detect(text) == lang for text, lang in rows)
        out[name] = {
            "n": len(rows),
            "accuracy": round(correct / len(rows), 4),
            "ms_per_text": round((time.perf_counter() - start) * 1000 / len(rows), 3),
        }
    return out


def overall(per_set: dict[str, dict[str, float]]) -> dict[str, float]:
    """Mean over data sets (each language of each set weighs the same), and mean time per text."""
    return {
        "mean_accuracy": round(sum(s["accuracy"] for s in per_set.values()) / len(per_set), 4),
        "ms_per_text": round(sum(s["ms_per_text"] * s["n"] for s in per_set.values()) / sum(s["n"] for s in per_set.values()), 3),
    }


def main() -> None:
    console = Console()
    settings = Settings()
    registry = ModelRegistry(settings)

    def detector(prior: float, below: float) -> Callable[[str], str]:
        found = LanguageDetector(registry, settings.min_language_chars, settings.languages, prior, below)
        return lambda text: found.detect(text).code

    def langdetect_alone(text: str) -> str:
        try:
            return registry.langdetect(text)[0].lang.split("-")[0]
        except Exception:  # noqa: BLE001 - langdetect raises on texts without letters
            return "und"

    registry.langdetect("warm up")
    validation = validation_sets()
    grid = []
    for prior in PRIORS:
        for below in SECOND_OPINION:
            figures = overall(score(detector(prior, below), validation))
            grid.append({"language_prior": prior, "language_second_opinion_below": below, **figures})
            console.print(grid[-1])
    # Most accurate on validation; among near-ties (0.2 points) the one asking langdetect least often (time per
    # text would be the better key, but it moves with machine load; the threshold does not).
    best_accuracy = max(g["mean_accuracy"] for g in grid)
    near_ties = [g for g in grid if g["mean_accuracy"] >= best_accuracy - 0.002]
    chosen = max(near_ties, key=lambda g: (-g["language_second_opinion_below"], g["mean_accuracy"]))

    tests = test_sets()
    systems = {
        "sift (settings in force)": detector(settings.language_prior, settings.language_second_opinion_below),
        "py3langid alone": lambda text: str(registry.langid.rank(text)[0][0]),
        "langdetect alone": langdetect_alone,
    }
    results = {name: score(fn, tests) for name, fn in systems.items()}
    table = Table(title="language identification, test data (accuracy / ms per text)")
    table.add_column("set")
    for name in systems:
        table.add_column(name, justify="right")
    for set_name in tests:
        table.add_row(set_name, *(f"{results[n][set_name]['accuracy']:.3f} / {results[n][set_name]['ms_per_text']:.2f}" for n in systems))
    table.add_row("mean", *(f"{overall(results[n])['mean_accuracy']:.3f} / {overall(results[n])['ms_per_text']:.2f}" for n in systems))
    console.print(table)
    RESULTS.write_text(
        json.dumps(
            {
                "data": str(SHARED),
                "settings": {
                    "languages": settings.languages,
                    "language_prior": settings.language_prior,
                    "language_second_opinion_below": settings.language_second_opinion_below,
                    "min_language_chars": settings.min_language_chars,
                },
                "validation_grid": grid,
                "chosen_on_validation": chosen,
                "test": {name: {"overall": overall(r), "sets": r} for name, r in results.items()},
            },
            indent=2,
        )
    )
    console.print(f"chosen on validation: {chosen}")
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
