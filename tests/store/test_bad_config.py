"""A wrong database URL or artifact URL or directory: one line saying where and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from fsspec.registry import known_implementations

from podium.errors import PodiumError
from podium.settings import Settings
from podium.store.open import open_store


def refusal(settings: Settings) -> str:
    with pytest.raises(PodiumError) as exc:
        open_store(settings).close()
    text = str(exc.value)
    assert "\n" not in text
    return text


@pytest.mark.parametrize("url", ["garbage", "postgresql://h:notaport/db"])
def test_a_database_url_that_does_not_parse(settings: Settings, url: str) -> None:
    assert refusal(settings.model_copy(update={"database_url": url})) == (
        f"PODIUM_DATABASE_URL: cannot parse {url!r} as a database URL — "
        "use sqlite:///path/podium.db or postgresql+psycopg://user@host/db"
    )


def test_a_password_in_a_database_url_that_does_not_parse_is_not_shown(
    settings: Settings,
) -> None:
    line = refusal(settings.model_copy(update={"database_url": "pg://u:s3cret@h:x/db"}))
    assert "s3cret" not in line and "'***@h:x/db'" in line


def test_an_artifact_url_of_an_unknown_protocol(settings: Settings) -> None:
    line = refusal(settings.model_copy(update={"artifact_url": "nosuchproto://x"}))
    assert line.startswith(
        "PODIUM_ARTIFACT_URL: cannot store artifacts there: Protocol not known: nosuchproto — "
    )


def test_an_artifact_url_whose_filesystem_is_not_installed_names_the_package(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as s3:// is without s3fs, whether or not s3fs happens to be installed here
    missing = {"class": "podium_no_such_fs.FileSystem", "err": "Install podium_no_such_fs"}
    monkeypatch.setitem(known_implementations, "nofs", missing)
    assert refusal(settings.model_copy(update={"artifact_url": "nofs://bucket/x"})) == (
        "PODIUM_ARTIFACT_URL: artifacts at nofs:// need the podium_no_such_fs package, which "
        "is not installed — pip install podium_no_such_fs, or unset PODIUM_ARTIFACT_URL to keep "
        "them on disk"
    )


def test_a_file_where_the_artifact_directory_belongs(settings: Settings) -> None:
    (settings.home / "artifacts").write_text("not a directory")
    assert refusal(settings) == (
        f"{settings.home / 'artifacts'}: artifacts need a directory here, but a file is in the "
        "way — move the file away, or point PODIUM_HOME or PODIUM_ARTIFACT_URL elsewhere"
    )


def test_a_file_where_a_parent_of_the_artifact_directory_belongs(
    settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("")
    url = str(tmp_path / "file" / "artifacts")
    assert "a file is in the way" in refusal(settings.model_copy(update={"artifact_url": url}))
