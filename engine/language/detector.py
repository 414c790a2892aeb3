"""Language identification: lingua among the languages a helpdesk serves, py3langid for every other script.

Why two models. lingua (restricted with ``from_languages``) reads short helpdesk lines far better than
py3langid or langdetect: those two scored all their ~100 languages on a handful of letters and called
"cancel my order" Spanish, "Où est ma commande ?" Breton and "¿Dónde está mi pedido?" Galician. Restricting
lingua to the served languages removes those distractors, and its memory grows with every language it holds
(tens of MB each), so it cannot hold them all. It holds ``languages`` (the served ones) plus
``language_also_named``: Latin-script languages that are not served but that must be named rather than forced
into the nearest served one (Turkish, Norwegian, Indonesian...), so routing can hand them off as
``unsupported_language``. A text mostly written in a script none of those languages use (Cyrillic Russian,
Arabic, Japanese...) is named by py3langid, which knows 97 languages, costs next to nothing and is reliable once the
script alone narrows the choice; where it is still unsure (Hindi against Marathi, Arabic against Persian)
langdetect's distribution is averaged in, as before. Latin-script text never pays for langdetect.

What is read. Links, e-mail addresses, @mentions, short lines or clauses with a number and the capitalised-only
ones beside them (an address: "Max Mustermann, Hauptstraße 12, 10115 Berlin") are left out when enough prose
remains: they carry the language of a
place, and an English ticket with a German address was read as German. So are quoted passages and runs of
capitalised words inside a sentence (titles, product and place names: "Gib 4 Sterne an The Broken Window",
an English error message quoted in a German e-mail), as long as 20% of the letters remain (at 30% "Vis mig Happiness
Was Free" was read by its title: on the validation splits 20% set 5 requests right and 2 tweets wrong).

Scripts and suffixes that belong to one language. A sentence in Arabic or Chinese with Latin names and titles in
it is read by its own script once it holds two words of it, even when the Latin letters outnumber them ("أضف
morten harket إلى this is puccini" was Danish); and Turkish, which writes case suffixes after an apostrophe on
names ("Deezer'da Dana'nın shadowplay'ini çal"), gets its score multiplied by ``TURKISH_SUFFIX_PRIOR`` when a
text holds one. Among other scripts, an Arabic-script text with none of the letters Persian, Urdu, Pashto, Kurdish
and Uyghur add to the alphabet is not in those languages (py3langid called short Arabic questions Persian). On the
validation splits, with the 20% above: xSID ar 0.973 -> 0.997, tr 0.953 -> 0.980.

Second opinion on Latin script. lingua's scores are multiplied by py3langid's, restricted to the same
languages, to the power 0.2, each summed over its close group (da/no/sv, hr/bs/sr/sl, cs/sk): py3langid
breaks lingua's near-ties on short requests ("set reminder to go to the store at 8am" was Danish), while
inside those groups, where it is weak, lingua decides alone. On the validation splits this took the mean
accuracy from 0.957 to 0.978; eval/language.py measures the test splits.

Priors. A served language's score is multiplied by ``language_prior`` (a close call between Danish and
Norwegian goes to the one the helpdesk serves), the channel locale's language by ``language_locale_prior`` and
the language of the customer's earlier messages by ``language_history_prior``, and where neither is known the
helpdesk's usual language (``language_default``, off by default) by ``language_default_prior``; then the scores
are renormalised.
They decide close calls only: a clear text outweighs them.

Croatian, Bosnian and Serbian. lingua's Serbian is Cyrillic only, so Latin-script Serbian reads as Croatian or
Bosnian. Serbian gets a share of that mass so that a locale or history prior can choose it, and a few words tell
the standards apart where the models cannot: ekavian forms, Serbian words and "moram da" constructions ("gde",
"hteo", "nedelja", "hiljadu", and a helpdesk's "nalog", "sajt", "resetovati") against Croatian and ijekavian ones
("tjedan", "tko", "tisuću", "gdje", "tvrtka", "resetirati"). They
move the score inside the group; without them or a prior the result is a close call, flagged ``uncertain``.

Close calls. When the runner-up is in the winner's close group (hr/bs/sr, es/pt/gl, da/no/sv, cs/sk) with a
real share of the score, or the winner is below ``UNCERTAIN_BELOW``, the result is ``uncertain``.
eval/language.py measures all of this on public data.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from langdetect.lang_detect_exception import LangDetectException

from engine.models.registry import ModelRegistry
from engine.settings import Settings
from engine.stage import TicketState
from engine.types import LanguageResult, LanguageScore

CLOSE_GROUPS = ({"hr", "bs", "sr"}, {"da", "no", "sv"}, {"cs", "sk"}, {"es", "pt", "gl"})
# Where py3langid's second opinion is summed: groups it tells apart worse than lingua does.
_SECOND_OPINION_GROUPS = ({"da", "no", "sv"}, {"hr", "bs", "sr", "sl"}, {"cs", "sk"})
SECOND_OPINION_WEIGHT = 0.2  # chosen on the validation splits (0.15-0.25 within 0.002 of each other)
# Quoted passages and names are left out only when this share of the letters remains (0.1-0.3 tried on the
# validation splits: 0.2 and 0.1 tie, 0.3 kept titles in short requests).
OWN_WORDS_SHARE = 0.2
UNCERTAIN_BELOW = 0.6
# The runner-up in the winner's close group makes the result uncertain above this share.
CLOSE_RUNNER_UP = 0.2
# A Chinese, Japanese or Korean character says about as much as three letters of a European language.
IDEOGRAPH_WEIGHT = 3
_IDEOGRAPHS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# lingua reads a long ticket no better from its 2,000th character on, and its time grows with the length.
MAX_CHARS = 1000
# Norwegian is one language to a helpdesk: fold the written standards (and langdetect-style codes) together.
ALIASES = {"nb": "no", "nn": "no", "zh-cn": "zh", "zh-tw": "zh"}
_HBS = {"hr", "bs", "sr"}
# Words only one of the standards uses (Latin script, lower case). Serbian: ekavian reflexes and Serbian
# vocabulary; Croatian: its own vocabulary (ijekavian forms are shared with Bosnian, so they count for both).
_SERBIAN = frozenset(
    "gde ovde onde negde svugde nigde kuda hteo htela hteli htelo hteti lep lepo lepa lepe reka reke reč reči"
    " vreme vremena mleko dete deca deo delo dela celo ceo cela cele pre posle uvek nedelja nedelje nedelju"
    " ponedeljak hiljadu hiljade hiljada voz vozom hleb porudžbina porudžbinu porudžbine tačno tačan uopšte"
    " bezbednost bezbedno primer primeru primera mesto mestu mesta mesec meseca mesecu sledeći sledeće videti"
    " verovatno vest vesti dve izveštaj izveštaja razumem pesma pesme beo belo bela beli leto cena cene cenu"
    " ceni svet sveta svetu telo sneg devojka devojke uslov uslovi uslove opština opštine univerzitet fudbal"
    " istorija istoriju takođe kafa muzika avion fabrika hemija apoteka lekar lek lekove saobraćaj vazduh"
    " pantalone mera mere smer cveće sveća dečak veoma vera verujem nameravam obaveštenje obavešten"
    " poslednji poslednje odeljenje uspeh uspešno menjati promena promene menjam zamena šta"
    # ekavian past participles, the commonest verbs of a request
    " želeo želela želeli videla videli voleo volela živeo živela razumeo razumela sedeo leteo"
    # Serbian words for what a helpdesk is asked about, where Croatian has its own (račun, računalo, stranica,
    # datoteka, poduzeće, resetirati)
    " nalog naloga nalogu računar računara sajt sajta sajtu fajl fajla fajlove preduzeće preduzeća dinara dinar"
    " resetovati resetujem resetovao resetovala uplatnica pozorište".split()
)
_CROATIAN = frozenset(
    "tko netko nitko tjedan tjedna tjedno tisuću tisuće tisuća vlak kruh obitelj sveučilište nogomet povijest"
    " također točno točan točka uopće tijekom siječanj veljača ožujak travanj svibanj lipanj srpanj kolovoz"
    " rujan listopad studeni prosinac zrakoplov glazba kazalište kava kolodvor narudžba narudžbu narudžbe"
    " tvornica računalo računala ljekarna zrak promet hlače stol općina kemija uvjet uvjeti uvjete"
    " vjerojatno izvješće izvješća primjerice tvrtka tvrtke tvrtku poduzeće poduzeća datoteka datoteku"
    " resetirati resetiram resetirao resetirala".split()
)
_IJEKAVIAN = frozenset(
    "gdje ovdje ondje negdje svugdje nigdje htio htjela htjeli htjeti lijep lijepo lijepa rijeka rijeke riječ"
    " riječi vrijeme mlijeko dijete djeca dio djelo cijelo cijeli cijela prije poslije uvijek dvije mjesto"
    " mjestu mjesta mjesec mjeseca sljedeći sljedeće vidjeti vijest vijesti zamjena izvještaj cijena cijene"
    " cijenu svijet svijeta svijetu tijelo snijeg bijel bijela bijelo djevojka primjer primjeru primjera"
    " liječnik lijek lijekove mjera mjere smjer cvijeće svijeća vjera vjerujem namjeravam obavijest"
    " posljednji posljednje odjel uspjeh uspješno trenutačno mijenjati promjena promjene mijenjam".split()
)
_BOSNIAN = frozenset("šta hiljadu hiljade hiljada sedmica sedmice sedmicu historija historiju također ko neko".split())
# "da" after a modal verb where Croatian writes the infinitive ("moram da platim" / "moram platiti").
_DA_CONSTRUCTION = re.compile(r"\b(?:mogu|možeš|može|možemo|moram|moraš|mora|moramo|hoću|hoćeš|hoće|želim|želiš|želimo|treba|bi|bih|bismo)\s+da\b")
# Turkish writes a case suffix after an apostrophe on names and numbers ("Deezer'da", "Dana'nın",
# "1995'ten", "Jams'e"): in a request that is mostly a foreign title, the suffixes are the Turkish. The stem has 3+
# characters so that French and Italian elisions ("d'un", "l'album", "qu'il") never match.
_TURKISH_SUFFIXED = re.compile(
    r"\b\w{3,}['’](?:y?[aeıiuü]|n?[ıiuü]n|[dt][ae]n?|y?l[ae]|[ıiuü]n[ıiuüae]|[ıiuü]n[dt][ae]n?|l[ae]r[ıi]?)\b"
)
TURKISH_SUFFIX_PRIOR = 10.0  # 3 left three of the validation requests English; 10 and 30 tie
_WORDS = re.compile(r"[^\W\d_]+")
_LATIN_WORDS = re.compile(r"\b[A-Za-z\u00c0-\u024f]+\b")
# A text this much (or more) in other scripts than Latin is named by py3langid unless lingua holds its language.
NON_LATIN_SHARE = 0.3
# A text with two or more words in such a script and at least this share of its letters is read as that script's
# language too: a sentence in Arabic or Chinese holds Latin names and titles ("أضف morten harket إلى this is
# puccini"), and they outweighed its own few short words; a Latin-script ticket rarely holds two words of another
# script.
MIXED_SCRIPT_SHARE = 0.1
_OTHER_SCRIPT_WORDS = re.compile(r"[^\W\d_a-zA-Z\u00c0-\u024f\u1e00-\u1eff]{2,}")
# Below this py3langid confidence on such a text, langdetect (the slowest of the three) is asked too; Latin-script
# texts never are.
SECOND_OPINION_BELOW = 0.9
# Letters that Persian, Urdu, Pashto, Kurdish and Uyghur write and Arabic does not (پ چ ژ گ, their own yeh and keheh,
# Urdu's retroflex consonants and final yeh, Uyghur's and Kurdish vowels). An Arabic-script text without any of them
# is not written in one of those languages: py3langid called "هل ستمطر غدا ؟" (will it rain tomorrow?) Persian.
_BEYOND_ARABIC = re.compile(
    "[\u067e\u0686\u0698\u06af\u06a9\u06cc\u06c6\u06d0\u06c7\u06c8\u06be\u06d2\u0679\u0688\u0691\u06ba"
    "\u06ad\u06d5\u0695\u06b5\u06ce]"
)
NEEDS_BEYOND_ARABIC = frozenset({"fa", "ur", "ps", "ku", "ug"})


def _ruled_out(text: str) -> frozenset[str]:
    """Languages the text's letters rule out (none but Persian and its Arabic-script neighbours so far)."""
    if script_of(text) == "ARABIC" and not _BEYOND_ARABIC.search(text):
        return NEEDS_BEYOND_ARABIC
    return frozenset()


CANDIDATES = 10  # past its top ten, py3langid's normalised probabilities are negligible
# Lines, and clauses after punctuation: an address or a signature inside a ticket is one or more of these.
_SEGMENTS = re.compile(r"[\n\r]+|\\n|(?<=[.!?;:,])\s+")
_LINKS = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|(?<!\S)@\w+|(?<!\S)(?:https?|RT)(?!\S)", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
# Segments this short that hold a number or only capitalised words are read as names and addresses.
NAME_SEGMENT_WORDS = 4


def _short(segment: str) -> list[str] | None:
    words = _WORDS.findall(segment)
    return words if words and len(words) <= NAME_SEGMENT_WORDS else None


def prose(text: str) -> str:
    """The text without links, e-mail addresses and name or address lines ("Hauptstraße 12", "10115 Berlin").

    Those carry the language of a place, not of the customer: an English ticket with a German address
    read as German.
    """
    segments = [s.strip() for s in _SEGMENTS.split(_LINKS.sub(" ", text)) if s.strip()]
    numbered = {i for i, s in enumerate(segments) if _short(s) and _DIGIT.search(s)}
    # Capitalised words alone are a name or a place only beside a number ("Max Mustermann, Hauptstraße 12"):
    # elsewhere they may be German nouns.
    named = {
        i
        for i, s in enumerate(segments)
        if numbered
        and (words := _short(s))
        and all(w[0].isupper() for w in words)
        and any(abs(i - j) <= 2 for j in numbered)
    }
    return " ".join(s for i, s in enumerate(segments) if i not in numbered | named)


_QUOTED = re.compile(r'"[^"\n]{3,}"|“[^”\n]{3,}”|„[^“”\n]{3,}[“”]|«[^»\n]{3,}»')
# Two or more capitalised words after a word inside a sentence, possibly joined by a particle ("The Broken
# Window", "Borussia Mönchengladbach", "Journal of the"); a sentence's first word is never taken.
_UPPER = "A-ZÀ-ÖØ-Þ"
_NAME_RUN = re.compile(
    rf"(?<=[\w,;:] )[{_UPPER}][\w'’-]*(?: (?:of|the|de|del|la|le|van|von|and|&)?\s?[{_UPPER}][\w'’-]*)+"
)


def own_words(text: str) -> str:
    """The text without quoted passages and runs of capitalised words: what the customer wrote in their own
    language rather than a title, a name or a message they copied."""
    return _NAME_RUN.sub(" ", _QUOTED.sub(" ", text))


def script_counts(text: str) -> dict[str, int]:
    """Letters per script ("LATIN", "CYRILLIC", "CJK", "ARABIC"...), a CJK character counting as three."""
    counts: dict[str, int] = {}
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        script = name.split(" ", 1)[0] if name else "OTHER"
        weight = 1
        if script in {"CJK", "HIRAGANA", "KATAKANA", "HANGUL"}:
            script, weight = "CJK", IDEOGRAPH_WEIGHT
        counts[script] = counts.get(script, 0) + weight
    return counts


def script_of(text: str) -> str:
    """The script most of the text's letters are written in."""
    counts = script_counts(text)
    return max(counts, key=counts.__getitem__) if counts else "OTHER"


def hbs_markers(text: str) -> dict[str, int]:
    """How many words of the text only Serbian, only Croatian, or Croatian and Bosnian (ijekavian) use."""
    words = [w.lower() for w in _WORDS.findall(text)]
    return {
        "sr": sum(w in _SERBIAN for w in words) + len(_DA_CONSTRUCTION.findall(text.lower())),
        "hr": sum(w in _CROATIAN for w in words),
        "ijekavian": sum(w in _IJEKAVIAN for w in words),
        "bs": sum(w in _BOSNIAN for w in words),
    }


def locale_language(locale: str | None) -> str | None:
    """The language subtag of a BCP 47 locale ('pt-BR' -> 'pt', 'nb_NO' -> 'no'), or None."""
    if not locale:
        return None
    code = locale.replace("_", "-").split("-")[0].lower()
    return ALIASES.get(code, code) or None


class LanguageDetector:
    name = "language"
    needs: tuple[str, ...] = ()
    required = False

    def __init__(
        self,
        registry: ModelRegistry,
        min_chars: int,
        served: Sequence[str],
        prior: float = 2.0,
        locale_prior: float = 5.0,
        history_prior: float = 3.0,
        default: str | None = None,
        default_prior: float = 2.0,
    ) -> None:
        self._registry = registry
        self._default = default
        self._default_prior = default_prior
        self._min_chars = min_chars
        self._served = {ALIASES.get(c, c) for c in served}
        self._prior = prior
        self._locale_prior = locale_prior
        self._history_prior = history_prior

    @classmethod
    def from_settings(cls, registry: ModelRegistry, settings: Settings) -> LanguageDetector:
        """The detector as the settings configure it, for the pipeline and anything that measures it."""
        return cls(
            registry,
            settings.min_language_chars,
            settings.languages,
            settings.language_prior,
            settings.language_locale_prior,
            settings.language_history_prior,
            settings.language_default,
            settings.language_default_prior,
        )

    def warm_up(self) -> None:
        self._registry.langid.rank("warm up")
        self._registry.langdetect("warm up")
        self._registry.lingua.compute_language_confidence_values("warm up")
        self._registry.langid_latin.rank("warm up")

    def run(self, batch: Sequence[TicketState]) -> None:
        """The ticket's language, with its locale and the customer's earlier messages as priors."""
        found = self.identify([s.text for s in batch], [s.ticket.locale for s in batch], [s.history for s in batch])
        for state, language in zip(batch, found, strict=True):
            state.language = language

    def identify(
        self,
        texts: list[str],
        locales: list[str | None],
        histories: Sequence[Iterable[str]] | None = None,
    ) -> list[LanguageResult]:
        """One result per text; ``histories`` holds each customer's earlier messages (optional)."""
        if histories is None:
            histories = [()] * len(texts)
        return [self.detect(t, loc, h) for t, loc, h in zip(texts, locales, histories, strict=True)]

    def _letters(self, text: str) -> int:
        letters = re.sub(r"[\W\d_]+", "", text)
        return len(letters) + (IDEOGRAPH_WEIGHT - 1) * len(_IDEOGRAPHS.findall(letters))

    def _scores(self, text: str) -> dict[str, float]:
        """Unweighted scores: lingua among its languages, or py3langid where the script rules lingua's out."""
        text = text[: 2 * MAX_CHARS]
        kept = prose(text)
        text = kept if self._letters(kept) >= self._min_chars else text
        own = own_words(text)
        if self._letters(own) >= max(self._min_chars, OWN_WORDS_SHARE * self._letters(text)):
            text = own
        text = text[:MAX_CHARS]
        counts = script_counts(text)
        other = sum(n for script, n in counts.items() if script != "LATIN")
        if other >= NON_LATIN_SHARE * sum(counts.values()) or (
            other >= MIXED_SCRIPT_SHARE * sum(counts.values()) and len(_OTHER_SCRIPT_WORDS.findall(text)) >= 2
        ):
            # e.g. Russian, Arabic, Japanese, often with Latin names in them: py3langid is reliable once the
            # script narrows the choice, and the Latin words would only pull it towards English.
            own = _LATIN_WORDS.sub(" ", text)
            first, p = self._other_script_ranks(own)[0]
            if first not in self._registry.lingua_codes:
                if p >= SECOND_OPINION_BELOW:
                    return {first: float(p)}
                return self._with_second_opinion(own)
        scores: dict[str, float] = {}
        for value in self._registry.lingua.compute_language_confidence_values(text):
            code = value.language.iso_code_639_1.name.lower()
            code = ALIASES.get(code, code)
            scores[code] = scores.get(code, 0.0) + value.value
        if "tr" in scores and _TURKISH_SUFFIXED.search(text):
            scores["tr"] *= TURKISH_SUFFIX_PRIOR
        if len(scores) > 1:
            second = {ALIASES.get(str(c), str(c)): float(p) for c, p in self._registry.langid_latin.rank(text)}
            for code in scores:
                group = next((g for g in _SECOND_OPINION_GROUPS if code in g), {code})
                scores[code] *= (sum(second.get(c, 0.0) for c in group) + 1e-3) ** SECOND_OPINION_WEIGHT
        return scores

    def _other_script_ranks(self, text: str) -> list[tuple[str, float]]:
        """py3langid's ranking without the languages the text's letters rule out, renormalised."""
        ruled_out = _ruled_out(text)
        ranked = [(ALIASES.get(str(c), str(c)), float(p)) for c, p in self._registry.langid.rank(text)]
        kept = [(c, p) for c, p in ranked if c not in ruled_out]
        total = sum(p for _, p in kept)
        return [(c, p / total) for c, p in kept] if kept and total > 0 else ranked

    def _with_second_opinion(self, text: str) -> dict[str, float]:
        """py3langid and langdetect averaged: on a script lingua does not hold, where py3langid is unsure
        (Hindi against Marathi and Nepali, Arabic against Persian), langdetect is the better judge."""
        scores = {c: 0.6 * p for c, p in self._other_script_ranks(text)[:CANDIDATES]}
        try:
            guesses = self._registry.langdetect(text)
        except LangDetectException:  # no letters it knows
            guesses = []
        ruled_out = _ruled_out(text)
        for g in guesses:
            code = ALIASES.get(g.lang, g.lang)
            if code not in ruled_out:
                scores[code] = scores.get(code, 0.0) + 0.4 * g.prob
        best = max(scores, key=scores.__getitem__)
        return {best: scores[best], **{c: v for c, v in scores.items() if c != best and c not in self._registry.lingua_codes}}

    def _history_language(self, history: Iterable[str]) -> str | None:
        """The language of the customer's earlier messages, read together (no priors), or None if unknown."""
        joined = " ".join(h for h in history if h and h.strip())
        if self._letters(joined) < self._min_chars:
            return None
        code = self.detect(joined).code
        return None if code == "und" else code

    def detect(self, text: str, locale: str | None = None, history: Iterable[str] = ()) -> LanguageResult:
        if self._letters(text) < self._min_chars:
            return LanguageResult(code="und", confidence=0.0, uncertain=True)
        scores = self._scores(text)
        if len(scores) > 1:
            for code in scores:
                if code in self._served:
                    scores[code] *= self._prior
            hinted = locale_language(locale)
            if hinted in scores:
                scores[hinted] *= self._locale_prior
            earlier = self._history_language(history)
            if earlier in scores:
                scores[earlier] *= self._history_prior
            if hinted is None and earlier is None and self._default in scores:
                scores[self._default] *= self._default_prior
            self._latin_serbian(text, scores, hinted, earlier)
        total = sum(scores.values())
        if total <= 0:
            return LanguageResult(code="und", confidence=0.0, uncertain=True)
        ranked = sorted(((code, s / total) for code, s in scores.items()), key=lambda x: -x[1])
        best, confidence = ranked[0]
        runner_up = ranked[1] if len(ranked) > 1 else None
        close_call = (
            runner_up is not None
            and any({best, runner_up[0]} <= group for group in CLOSE_GROUPS)
            and runner_up[1] > CLOSE_RUNNER_UP
        )
        return LanguageResult(
            code=best,
            confidence=round(confidence, 4),
            uncertain=confidence < UNCERTAIN_BELOW or close_call,
            alternatives=tuple(LanguageScore(code, round(p, 4)) for code, p in ranked[1:4] if p > 0),
        )

    def _latin_serbian(self, text: str, scores: dict[str, float], hinted: str | None, earlier: str | None) -> None:
        """Share the Croatian/Bosnian/Serbian mass of a Latin-script text by priors and marker words (in place).

        lingua's Serbian model is Cyrillic, so on Latin script it leaves Serbian out and splits the group's
        mass between Croatian and Bosnian. Serbian gets a third of that mass, so that a locale or history prior
        can pick it; words only one standard uses then move the mass.
        """
        if "sr" not in self._served or script_of(text) != "LATIN":
            return
        found = {c: scores.get(c, 0.0) for c in _HBS}
        if max(scores, key=scores.__getitem__) not in _HBS:
            return
        # hr and bs carry the served prior already, and their own locale and history priors.
        scores["sr"] = max(found["sr"], (found["hr"] + found["bs"]) / 3) * (
            (self._locale_prior if hinted == "sr" else 1.0) * (self._history_prior if earlier == "sr" else 1.0)
        )
        m = hbs_markers(text)
        serbian, croatian = m["sr"], m["hr"] + m["ijekavian"]
        if serbian > croatian:
            # Ekavian or Serbian words: Serbian, unless Croatian words or a prior say otherwise.
            weights = {"sr": 0.7, "bs": 0.15, "hr": 0.15} if croatian == 0 else {"sr": 0.5, "bs": 0.3, "hr": 0.2}
        elif m["bs"] and m["ijekavian"] and not m["hr"]:
            weights = {"bs": 0.6, "hr": 0.25, "sr": 0.15}
        elif croatian > serbian:
            weights = {"hr": 0.5, "bs": 0.4, "sr": 0.1}
        else:
            return
        group = _HBS & self._served
        mass = sum(scores.get(c, 0.0) for c in group)
        boosted = {
            c: weights[c]
            * (self._locale_prior if c == hinted else 1.0)
            * (self._history_prior if c == earlier else 1.0)
            for c in group
        }
        norm = sum(boosted.values())
        for code in group:
            scores[code] = mass * boosted[code] / norm
