"""Schema-driven fuzzing of every endpoint: no request may get a server error, and the service must answer after.

Schemathesis draws requests from the service's own OpenAPI document, valid ones and ones that break the schema,
for every operation; a hypothesis strategy then swaps string values (body fields, query and path parameters)
for the strings that break parsers and encoders: lone UTF-16 surrogates, control characters, 100,000-character
values (whole in JSON bodies; in URLs cut to ``URL_PART`` encoded characters, as no client sends a longer URL). Requests are encoded here, not by the HTTP client, because a lone surrogate has no UTF-8 form: in a
JSON body it goes as the escape ``\\ud800`` (what a browser's ``JSON.stringify`` sends), in a URL as the bytes
Python's ``surrogatepass`` gives it (``%ED%A0%80``, invalid UTF-8 the server must refuse, not choke on).

    .venv/bin/python -m bench.fuzz                      # 1,000+ requests against a real `sift serve`
    .venv/bin/python -m bench.fuzz --requests 100 --results-dir /tmp/fuzz

The server runs on loopback on a temporary data directory (its first start builds the index and the default
heads: a minute or two), with no API keys, so every endpoint is reached. The report gives the requests sent,
the status codes (overall and per operation), every server error with the request that caused it, and whether
``/healthz`` and ``/readyz`` still answer at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from schemathesis import GenerationMode
from schemathesis.core import NOT_SET

from bench.server import free_port, wait_ready
from bench.tickets import REPO_ROOT

LONG = 100_000
# httpx refuses a URL over 64 KiB (servers and browsers have lower limits still): a 100k value goes whole in a JSON
# body, and in a path or query cut to this many encoded characters, the URL to at most URL_MAX.
URL_PART = 8_000
URL_MAX = 60_000
SURROGATES = ("\ud800", "\udbff", "\udc00", "\udfff")
CONTROLS = "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\u2028\u2029\ufeff\ufffe"
RESULTS_DIR = Path(__file__).parent / "results"


def lone_surrogates() -> st.SearchStrategy[str]:
    """Text with a UTF-16 surrogate half alone in it: valid in a Python str and in JSON, never in UTF-8."""
    return st.tuples(st.text(max_size=20), st.sampled_from(SURROGATES), st.text(max_size=20)).map("".join)


def control_characters() -> st.SearchStrategy[str]:
    """Text made mostly of C0/C1 controls, NUL and the Unicode separators that logs and terminals act on."""
    return st.text(alphabet=st.sampled_from(CONTROLS) | st.characters(codec="utf-8"), min_size=1, max_size=60)


def huge_values() -> st.SearchStrategy[str]:
    """A 100,000-character value: one repeated character (ASCII, accented, astral, NUL, space) or a pattern."""
    unit = st.sampled_from(["a", "é", "\U0001f642", "\x00", " ", "ab\n", "\ud800"])
    return unit.map(lambda u: (u * (LONG // len(u) + 1))[:LONG])


def nasty_strings() -> st.SearchStrategy[str]:
    return st.one_of(lone_surrogates(), control_characters(), huge_values())


def nastier(value: Any, data: st.DataObject) -> Any:
    """``value`` with some of its strings (values, not keys) swapped for nasty ones, at any depth."""
    if isinstance(value, str):
        return data.draw(nasty_strings()) if data.draw(st.booleans()) else value
    if isinstance(value, list):
        return [nastier(v, data) for v in value]
    if isinstance(value, dict):
        return {k: nastier(v, data) for k, v in value.items()}
    return value


def _url_part(value: Any) -> str:
    """``value`` percent-encoded, at most ``URL_PART`` characters of it (the rest of a 100k value is cut)."""
    text = value if isinstance(value, str) else json.dumps(value)
    encoded = quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")
    while len(encoded) > URL_PART:
        text = text[: len(text) * URL_PART // len(encoded)]
        encoded = quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")
    return encoded


def encode(method: str, path: str, path_parameters: dict[str, Any], query: dict[str, Any], body: Any,
           has_body: bool) -> dict[str, Any]:
    """httpx.request arguments for the case, every string encoded by hand (see the module docstring)."""
    for name, value in path_parameters.items():
        path = path.replace("{" + name + "}", _url_part(value))
    pairs = []
    for name, value in query.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append(f"{_url_part(name)}={_url_part(item)}")
    while pairs and len(path) + sum(len(p) + 1 for p in pairs) > URL_MAX:
        pairs.pop()  # a long list of long values: as many as fit
    url = path + ("?" + "&".join(pairs) if pairs else "")
    request: dict[str, Any] = {"method": method, "url": url}
    if has_body:
        # ensure_ascii: a lone surrogate as \ud800; a negative case may bring raw bytes, sent as they are
        request["content"] = body if isinstance(body, bytes) else json.dumps(body, default=str).encode("ascii")
        request["headers"] = {"content-type": "application/json"}
    return request


@dataclass
class Report:
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)
    nasty: int = 0
    server_errors: list[dict[str, Any]] = field(default_factory=list)
    transport_errors: list[dict[str, Any]] = field(default_factory=list)
    not_generated: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.sent,
            "requests_with_nasty_strings": self.nasty,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "by_operation": {op: {str(k): v for k, v in sorted(c.items())} for op, c in self.by_operation.items()},
            "server_errors": len(self.server_errors),
            "server_error_samples": self.server_errors[:20],
            "transport_errors": self.transport_errors[:20],
            "not_generated": self.not_generated,
        }


def _sample(request: dict[str, Any], answer: str) -> dict[str, Any]:
    """What a request was, cut short (a 100k value would swamp the report)."""
    body = request.get("content", b"")
    return {"method": request["method"], "url": request["url"][:300], "body": body[:300].decode("ascii", "replace"),
            "answer": answer[:500]}


def fuzz(client: httpx.Client, requests: int, run_seed: int = 0, max_per_round: int = 40) -> Report:
    """At least ``requests`` generated requests across every operation of ``client``'s OpenAPI document.

    Operations take turns, up to ``max_per_round`` examples each per round, with a new seed every round, until
    enough were sent (an operation without parameters has one positive example per round).
    """
    schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    operations = [result.ok() for result in schema.get_all_operations()]
    report = Report()
    per_round = min(max_per_round, -(-requests // len(operations)))  # every operation in the first round
    round_ = 0
    while report.sent < requests:
        for operation in operations:
            if report.sent >= requests:
                break
            _fuzz_operation(client, operation, report, min(per_round, requests - report.sent),
                            run_seed * 1000 + round_)
        round_ += 1
    return report


def _fuzz_operation(client: httpx.Client, operation: Any, report: Report, examples: int, run_seed: int) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    counts = report.by_operation.setdefault(label, Counter())
    has_body = operation.method.lower() in ("post", "put", "patch") and bool(operation.body)
    try:
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)
    except Exception as exc:  # noqa: BLE001 - an operation schemathesis cannot generate for is reported, not fatal
        report.not_generated[label] = f"{type(exc).__name__}: {exc}"
        return

    @seed(run_seed)
    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(case=strategy, data=st.data())
    def one(case: Any, data: st.DataObject) -> None:
        sends_body = has_body and case.body is not NOT_SET
        original = (case.path_parameters or {}, case.query or {}, case.body if sends_body else None)
        path_parameters, query, body = (nastier(part, data) for part in original)
        report.nasty += (path_parameters, query, body) != original
        request = encode(case.method, operation.path, path_parameters, query, body, sends_body)
        report.sent += 1
        try:
            answer = client.request(**request)
        except httpx.TransportError as exc:  # the server hung up or never answered
            report.transport_errors.append({**_sample(request, ""), "error": f"{type(exc).__name__}: {exc}"})
            return
        except Exception as exc:  # noqa: BLE001 - in-process (TestClient) the app's own exception surfaces here
            report.server_errors.append({**_sample(request, f"{type(exc).__name__}: {exc}"), "status": None})
            return
        report.statuses[answer.status_code] += 1
        counts[answer.status_code] += 1
        if answer.status_code >= 500:
            report.server_errors.append({**_sample(request, answer.text), "status": answer.status_code})

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            one()
        except HypothesisException as exc:  # e.g. Unsatisfiable: fewer examples than asked, not a finding
            report.not_generated.setdefault(label, f"{type(exc).__name__}: {exc}")


@contextmanager
def live_server(data_dir: Path, log_path: Path, ready_timeout_s: float = 600.0) -> Iterator[str]:
    """`sift serve` on loopback and a free port on ``data_dir``, until ``/readyz`` says 200; stopped after."""
    port = free_port()
    env = {**os.environ, "SIFT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    sift = Path(sys.executable).parent / "sift"
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([str(sift), "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=REPO_ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(proc, base, time.perf_counter() + ready_timeout_s, log_path)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def still_answering(client: httpx.Client) -> dict[str, int]:
    return {path: client.get(path).status_code for path in ("/healthz", "/readyz")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="At least this many generated requests.")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=120.0, help="Seconds one request may take.")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--url", help="Fuzz this running server instead of starting one (its log is not read).")
    args = parser.parse_args()
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="sift-fuzz-") as scratch:
        log_path = Path(scratch) / "server.log"
        t0 = time.perf_counter()
        with (
            nullcontext(args.url) if args.url else live_server(Path(scratch) / "data", log_path) as base,
            httpx.Client(base_url=base, timeout=args.timeout) as client,
        ):
            ready_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            report = fuzz(client, args.requests, args.seed)
            fuzz_s = time.perf_counter() - t1
            after = still_answering(client)
        log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else None
    result = {
        "benchmark": "fuzz",
        "started_at": started.isoformat(timespec="seconds"),
        "schemathesis": _version("schemathesis"),
        "hypothesis": _version("hypothesis"),
        "seed": args.seed,
        "server_ready_s": None if args.url else round(ready_s, 1),
        "fuzz_s": round(fuzz_s, 1),
        **report.to_json(),
        "after": after,
        "server_log_tracebacks": None if log is None else log.count("Traceback"),
        "passed": report.sent >= args.requests and not report.server_errors and not report.transport_errors
        and after == {"/healthz": 200, "/readyz": 200},
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / f"fuzz-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("requests", "statuses", "server_errors", "transport_errors", "after",
                                                "passed")}, indent=2))
    print(f"wrote {out}")
    sys.exit(0 if result["passed"] else 1)


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    main()
