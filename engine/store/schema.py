"""The ticket log's tables, defined once for SQLite and PostgreSQL.

Both backends hold the same columns with the same types: timestamps are ISO-8601 text in UTC with
milliseconds (``db.utc_now``), so they sort as text; JSON is text; booleans are 0/1 integers. Keeping to
types both engines read alike means one query per operation and an export that does not depend on the
backend. The Alembic revisions in ``engine/store/migrations`` create exactly these tables; a test compares
an upgraded database with this metadata.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    text,
)

metadata = MetaData()

tickets = Table(
    "tickets",
    metadata,
    Column("id", Text, primary_key=True),
    Column("received_at", Text, nullable=False),
    Column("channel", Text),
    Column("payload", Text, nullable=False),
    Column("status", Text, CheckConstraint("status IN ('accepted', 'processed', 'failed')"), nullable=False),
    Column("result", Text),
    Column("queue", Text),
    Column("handoff", Integer),
    Column("processed_at", Text),
    Column("error", Text),
    # The customer id only as a keyed hash (engine/privacy/keys.py), so `sift forget` finds a customer's rows.
    Column("customer_key", Text),
    # Exactly once (engine/store/claims.py): the helpdesk's own id of the ticket, unique per source (the API
    # key's name; '' without keys), with a keyed hash of what was sent under it, so a retry is told from a clash.
    Column("source", Text),
    Column("external_id", Text),
    Column("request_hash", Text),
    # Who is triaging an accepted ticket, and when they last said so: a claim older than the lease is a dead
    # process's, and recovery takes the ticket over. attempts counts claims, so a ticket that kills its process
    # every time is given up rather than retried forever.
    Column("claimed_by", Text),
    Column("claimed_at", Text),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    # Labels of the result repeated as columns, so the console filters and sorts alike on both backends;
    # risks space-separated and space-padded (" fraud threat ") for one LIKE per kind.
    Column("topic", Text),
    Column("urgency", Text),
    Column("language", Text),
    Column("sentiment", Text),
    Column("risks", Text),
    Index("tickets_received", "received_at"),
    Index("tickets_status", "status"),
    Index(
        "tickets_customer",
        "customer_key",
        sqlite_where=text("customer_key IS NOT NULL"),
        postgresql_where=text("customer_key IS NOT NULL"),
    ),
    Index(
        "tickets_external",
        "source",
        "external_id",
        unique=True,
        sqlite_where=text("external_id IS NOT NULL"),
        postgresql_where=text("external_id IS NOT NULL"),
    ),
    Index("tickets_queue", "queue", "received_at"),
    Index("tickets_urgency", "urgency", "received_at"),
    Index("tickets_language", "language", "received_at"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Text, primary_key=True),
    Column("ticket_id", Text, ForeignKey("tickets.id"), nullable=False),
    Column("created_at", Text, nullable=False),
    Column("agent_id", Text),
    Column("topic", Text),
    Column(
        "urgency", Text, CheckConstraint("urgency IS NULL OR urgency IN ('low', 'normal', 'high', 'urgent')")
    ),
    Column("handoff", Integer),
    Column("article_id", Text),
    Column("article_helped", Integer),
    Column("draft_helped", Integer),
    Column("comment", Text),
    # Insertion order among feedback given in the same millisecond; PostgreSQL has no rowid to fall back on.
    Column("seq", BigInteger),
    # The drafted reply's fate: 'sent' or 'discarded', and how much the agent changed it before sending
    # (normalised Levenshtein, 0 = as drafted). The sent text is never stored.
    Column("draft_action", Text),
    Column("draft_edit_distance", Float),
    Index("feedback_ticket", "ticket_id", "created_at"),
    Index("feedback_seq", "seq"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("prefix", Text, nullable=False),
    Column("hash", Text, nullable=False, unique=True),
    Column("scopes", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("revoked_at", Text),
    # Space-separated origins (https://shop.example) whose web pages may use a suggest-only key; NULL: none.
    Column("origins", Text),
    # The tenant the key acts for (settings.tenants; "default": the process's own KB, heads and ticket log).
    Column("tenant", Text, nullable=False, server_default=text("'default'")),
)

# A key's theoretical arrival time (Unix seconds) of its next request: its request budget (engine/store/rate_limits.py).
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key_id", Text, primary_key=True),
    Column("tat", Float, nullable=False),
)

widget_events = Table(
    "widget_events",
    metadata,
    Column("id", Text, primary_key=True),
    Column("created_at", Text, nullable=False),
    # search: suggestions were shown; open: an article was read; helped / not_helped: "did this help?";
    # contact: the contact form was sent. Never the query or the message: deflection needs only the counts.
    Column(
        "kind", Text, CheckConstraint("kind IN ('search', 'open', 'helped', 'not_helped', 'contact')"), nullable=False
    ),
    # A random id the widget draws per page visit, never stored anywhere else: it ties a visit's events together
    # ("contacted after searching") without naming anyone.
    Column("session", Text, nullable=False),
    Column("language", Text, nullable=False),
    Column("kb", Text),
    Column("article_id", Text),
    Column("results", Integer),
    Column("handoff", Integer),
    Column("origin", Text),
    Index("widget_events_created", "created_at"),
    Index("widget_events_session", "session"),
)
