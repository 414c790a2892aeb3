"""Shared fixtures: one real registry per session, on a private data directory.

The real shipped models are loaded once and shared; every test that needs a
ready data directory (index + heads) gets the session's one, built from the
shipped KB and demo tickets, so no test touches ./var or the network.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"

from fastapi.testclient import TestClient  # noqa: E402

from engine.api.app import create_app  # noqa: E402
from engine.bootstrap import ensure_encoder, ensure_ready  # noqa: E402
from engine.models.registry import ModelRegistry  # noqa: E402
from engine.pipeline import Pipeline  # noqa: E402
from engine.settings import REPO_ROOT, Settings, get_settings  # noqa: E402

SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"


def require_datasets() -> Path:
    """shared/datasets, or skip the calling test: it sits beside the repo in this project, not in every clone."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"the public data sets are not at {SHARED_DATASETS}")
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sift-data")


@pytest.fixture(autouse=True)
def _private_environment(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point every settings lookup at the session's data dir, never at ./var or a sift.toml."""
    monkeypatch.setenv("SIFT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("SIFT_SETTINGS_FILE", str(data_dir / "absent.toml"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    """No machine translation: what a draft says must not depend on which backends this machine has installed
    (tests/translate and tests/api/test_translation_api.py turn them on)."""
    return Settings(data_dir=data_dir, translators=[])


@pytest.fixture(scope="session")
def registry(settings: Settings) -> ModelRegistry:
    """The real models; the converted encoder is shared with set-up's (converted here if missing)."""
    ensure_encoder(settings)
    return ModelRegistry(settings)


@pytest.fixture(scope="session")
def ready_registry(registry: ModelRegistry) -> ModelRegistry:
    """The registry after the first-run bootstrap: KB index built, default heads trained."""
    ensure_ready(registry)
    return registry


@pytest.fixture(scope="session")
def pipeline(settings: Settings, ready_registry: ModelRegistry) -> Pipeline:
    pipe = Pipeline(settings, ready_registry)
    pipe.warm_up()
    return pipe


def ready_client(client: TestClient, timeout_s: float = 600) -> TestClient:
    """``client`` once its service has loaded: the app answers 503 while it starts (tests/api/test_startup.py)."""
    deadline = time.monotonic() + timeout_s
    while client.get("/readyz").status_code != 200:
        if "failed to start" in client.get("/readyz").text:
            pytest.fail(client.get("/readyz").text)
        if time.monotonic() > deadline:
            pytest.fail(f"the service was not ready after {timeout_s:.0f} s: {client.get('/readyz').text}")
        time.sleep(0.1)
    return client


@pytest.fixture(scope="module")
def client(settings: Settings, ready_registry: ModelRegistry) -> Iterator[TestClient]:
    """The API through TestClient, its lifespan run and its models loaded and warm, one per test module."""
    with TestClient(create_app(settings)) as c:
        yield ready_client(c)
