from pathlib import Path

from engine.translate.cache import TranslationCache


def test_memory_is_an_lru() -> None:
    cache = TranslationCache(2, None)
    cache.put("argos", "de", "en", "a", "A")
    cache.put("argos", "de", "en", "b", "B")
    assert cache.get("argos", "de", "en", "a") == "A"  # a is now the most recent
    cache.put("argos", "de", "en", "c", "C")
    assert cache.get("argos", "de", "en", "b") is None
    assert cache.get("argos", "de", "en", "a") == "A" and cache.get("argos", "de", "en", "c") == "C"
    assert cache.get("apertium", "de", "en", "a") is None  # keyed by backend and pair too


def test_only_persisted_texts_reach_the_disk_owner_only_and_without_the_source(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    cache = TranslationCache(10, folder)
    cache.put("argos", "hr", "en", "Ana Kovač, kartica 4111", "Ana Kovac, card 4111")  # a ticket: memory only
    assert not folder.exists()
    cache.put("argos", "en", "de", "How to reset your password", "Passwort zurücksetzen", persist=True)
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert files[0].stat().st_mode & 0o777 == 0o600
    assert all(d.stat().st_mode & 0o777 == 0o700 for d in (folder, files[0].parent))
    assert "reset your password" not in files[0].read_text(encoding="utf-8") + files[0].name
    fresh = TranslationCache(10, folder)  # another process, or after a restart
    assert fresh.get("argos", "en", "de", "How to reset your password") == "Passwort zurücksetzen"
    assert fresh.get("argos", "hr", "en", "Ana Kovač, kartica 4111") is None


def test_a_torn_file_is_a_miss(tmp_path: Path) -> None:
    cache = TranslationCache(0, tmp_path)
    cache.put("argos", "en", "de", "x", "y", persist=True)
    [file] = [p for p in tmp_path.rglob("*.json")]
    file.write_text("{not json")
    assert cache.get("argos", "en", "de", "x") is None
