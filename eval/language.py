"""Language identification on public data: accuracy per data set and language, time per text, and the goals.

Run from the repo root:  .venv/bin/python -m eval.language --validation --low-accuracy
Writes eval/results/language.json. Test data: xSID test requests (9 languages) and UMSAB test tweets (4), each
kept to sentences of 10+ characters as issue #24's goals are stated; XQuAD questions (7); tickets-multilang
(e-mail tickets, en/de); and for languages none of those hold, the example sentences spaCy ships per language
(Norwegian, Indonesian, Lithuanian, Serbian; Serbian also transliterated to Latin script, as most Serbian
tickets are written) and chatterbot-corpus's Indonesian dialogue lines when that package is installed
(`pip install chatterbot-corpus==1.3.3`, in the `dev` extra). Those last sets are small: a sanity check,
not a measurement. Several languages (tr, zh, ar, ja, ru, hi, no, id, lt) are not served by default: a helpdesk
still needs them named to route the ticket. The priors were chosen on the validation splits (xSID valid,
UMSAB val), reported by ``--validation``.
tickets-multilang's labels are noisy: about 360 of its tickets labelled ``de`` are English e-mails, which caps every
detector near 0.91 there.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
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
MIN_SENTENCE_CHARS = 10
HBS = {"hr", "bs", "sr"}
# Serbian Cyrillic to Latin (gaj): one letter to one or two, no ambiguity.
_CYR_TO_LAT = dict(
    zip(
        "абвгдђежзијклљмнњопрстћуфхцчџшАБВГДЂЕЖЗИЈКЛЉМНЊОПРСТЋУФХЦЧЏШ",
        "a b v g d đ e ž z i j k l lj m n nj o p r s t ć u f h c č dž š "
        "A B V G D Đ E Ž Z I J K L Lj M N Nj O P R S T Ć U F H C Č Dž Š".split(),
        strict=True,
    )
)

Labelled = dict[str, list[tuple[str, str]]]


def to_latin(text: str) -> str:
    return "".join(_CYR_TO_LAT.get(ch, ch) for ch in text)


def sentences(texts: list[str], lang: str) -> list[tuple[str, str]]:
    return [(t, lang) for t in texts if len(t.strip()) >= MIN_SENTENCE_CHARS]


def spacy_examples(lang: str) -> list[str]:
    return list(importlib.import_module(f"spacy.lang.{lang}.examples").sentences)


def chatterbot_lines(folder: str) -> list[str]:
    """Every line of chatterbot-corpus's dialogues in one language, or [] when the package is not installed."""
    try:
        import chatterbot_corpus
        import yaml
    except ImportError:
        return []
    root = Path(chatterbot_corpus.__file__).parent / "data" / folder
    lines: list[str] = []
    for path in sorted(root.glob("*.yml")):
        for conversation in yaml.safe_load(path.read_text(encoding="utf-8")).get("conversations", []):
            lines += [str(x) for x in conversation if isinstance(x, str)]
    return list(dict.fromkeys(lines))


def validation_sets() -> Labelled:
    sets = {f"xsid-{lang}": sentences(xsid(lang, "valid"), lang) for lang in XSID_LANGS}
    sets |= {f"umsab-{lang}": sentences(umsab(lang, "val")[0], lang) for lang in UMSAB_LANGS}
    return sets


def test_sets() -> Labelled:
    sets = {f"xsid-{lang}": sentences(xsid(lang, "test"), lang) for lang in XSID_LANGS}
    sets |= {f"umsab-{lang}": sentences(umsab(lang, "test")[0], lang) for lang in UMSAB_LANGS}
    sets |= {f"xquad-{lang}": [(q, lang) for q, _ in xquad(lang)[1]] for lang in XQUAD_LANGS}
    sets["tickets-multilang"] = tickets_multilang()
    sets["spacy-no"] = sentences(spacy_examples("nb"), "no")
    sets["spacy-id"] = sentences(spacy_examples("id"), "id")
    sets["spacy-lt"] = sentences(spacy_examples("lt"), "lt")
    sets["spacy-sr-cyrillic"] = sentences(spacy_examples("sr"), "sr")
    sets["spacy-sr-latin"] = sentences([to_latin(t) for t in spacy_examples("sr")], "sr")
    indonesian = chatterbot_lines("indonesian")
    if indonesian:
        sets["chatterbot-id"] = sentences(indonesian, "id")
    return sets


def score(detect: Callable[[str], str], sets: Labelled) -> dict[str, dict[str, float]]:
    out = {}
    for name, rows in sets.items():
        start = time.perf_counter()
        found = [detect(text) for text, _ in rows]
        elapsed = time.perf_counter() - start
        out[name] = {
            "n": len(rows),
            "accuracy": round(sum(f == lang for f, (_, lang) in zip(found, rows, strict=True)) / len(rows), 4),
            "ms_per_text": round(elapsed * 1000 / len(rows), 3),
        }
        if name.startswith("spacy-sr"):
            out[name]["hr_bs_sr_group"] = round(sum(f in HBS for f in found) / len(rows), 4)
    return out


def overall(per_set: dict[str, dict[str, float]]) -> dict[str, float]:
    """Mean over data sets (each language of each set weighs the same), and mean time per text."""
    return {
        "mean_accuracy": round(sum(s["accuracy"] for s in per_set.values()) / len(per_set), 4),
        "ms_per_text": round(sum(s["ms_per_text"] * s["n"] for s in per_set.values()) / sum(s["n"] for s in per_set.values()), 3),
    }


def goals(sets: dict[str, dict[str, float]]) -> dict[str, dict[str, object]]:
    """Issue #24's goals against these figures (the held-out sets the issue mentions are not public)."""
    def check(value: float, target: float) -> dict[str, object]:
        return {"value": value, "target": target, "met": value >= target}

    out = {f"{name} (10+ chars)": check(sets[name]["accuracy"], 0.97) for name in sets if name.startswith(("xsid-", "umsab-"))}
    out["tickets-multilang"] = check(sets["tickets-multilang"]["accuracy"], 0.99)
    out["Serbian, Latin script: sr"] = check(sets["spacy-sr-latin"]["accuracy"], 0.60)
    out["Serbian, Latin script: hr/bs/sr"] = check(sets["spacy-sr-latin"]["hr_bs_sr_group"], 0.95)
    for name in ("spacy-no", "spacy-id", "chatterbot-id", "spacy-lt"):
        if name in sets:
            out[name] = check(sets[name]["accuracy"], 0.95)
    return out


def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--validation", action="store_true", help="also score the validation splits")
    parser.add_argument("--low-accuracy", action="store_true", help="also score lingua's low-accuracy mode")
    args = parser.parse_args()
    console = Console()
    settings = Settings()
    registry = ModelRegistry(settings)
    detector = LanguageDetector.from_settings(registry, settings)

    registry.langid.rank("warm up")
    before = rss_mib()
    start = time.perf_counter()
    detector.warm_up()
    memory = {"lingua_load_s": round(time.perf_counter() - start, 1), "rss_before_mib": round(before), "rss_after_mib": round(rss_mib())}
    console.print(memory)

    systems: dict[str, Callable[[str], str]] = {
        "sift (settings in force)": lambda text: detector.detect(text).code,
        "py3langid alone": lambda text: str(registry.langid.rank(text)[0][0]),
    }
    if args.low_accuracy:
        low_settings = settings.model_copy(update={"language_low_accuracy": True})
        low = LanguageDetector.from_settings(ModelRegistry(low_settings), low_settings)
        before = rss_mib()
        low.warm_up()
        memory["low_accuracy_rss_added_mib"] = round(rss_mib() - before)
        systems["sift, language_low_accuracy"] = lambda text: low.detect(text).code
    validation = {}
    if args.validation:
        validation = {"sift (settings in force)": score(systems["sift (settings in force)"], validation_sets())}
        console.print(overall(validation["sift (settings in force)"]))
    tests = test_sets()
    results = {name: score(fn, tests) for name, fn in systems.items()}
    table = Table(title="language identification, test data (accuracy / ms per text)")
    table.add_column("set")
    table.add_column("n", justify="right")
    for name in systems:
        table.add_column(name, justify="right")
    for set_name, rows in tests.items():
        table.add_row(set_name, str(len(rows)), *(f"{results[n][set_name]['accuracy']:.3f} / {results[n][set_name]['ms_per_text']:.2f}" for n in systems))
    table.add_row("mean", "", *(f"{overall(results[n])['mean_accuracy']:.3f} / {overall(results[n])['ms_per_text']:.2f}" for n in systems))
    console.print(table)
    goal_table = goals(results["sift (settings in force)"])
    for name, g in goal_table.items():
        console.print(f"{'met ' if g['met'] else 'MISS'} {name}: {g['value']} (goal {g['target']})")
    RESULTS.write_text(
        json.dumps(
            {
                "data": str(SHARED),
                "min_sentence_chars": MIN_SENTENCE_CHARS,
                "settings": {
                    "languages": settings.languages,
                    "language_also_named": settings.language_also_named,
                    "language_prior": settings.language_prior,
                    "language_locale_prior": settings.language_locale_prior,
                    "language_history_prior": settings.language_history_prior,
                    "min_language_chars": settings.min_language_chars,
                    "language_low_accuracy": settings.language_low_accuracy,
                },
                "memory": memory,
                "goals": goal_table,
                "validation": {name: {"overall": overall(r), "sets": r} for name, r in validation.items()},
                "test": {name: {"overall": overall(r), "sets": r} for name, r in results.items()},
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
