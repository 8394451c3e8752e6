"""tools/venv.py: the cached environment is named by what it installs, and old ones are pruned."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tools import venv


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the files that decide the environment, as tools/venv.py's ROOT."""
    for name in [*venv.INPUTS, "pyproject.toml"]:
        shutil.copy(venv.ROOT / name, tmp_path / name)
    monkeypatch.setattr(venv, "ROOT", tmp_path)
    return tmp_path


def test_the_key_follows_what_is_installed_and_nothing_else(project: Path) -> None:
    key = venv.key()
    assert key == venv.key() and len(key) == 16
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("line-length = 110", "line-length = 100"))
    assert venv.key() == key, "a lint setting does not rebuild the environment"
    pyproject.write_text(pyproject.read_text().replace('"einops"', '"einops>=0.8"'))
    assert venv.key() != key, "a changed dependency does"
    new = venv.key()
    (project / "constraints.txt").write_text((project / "constraints.txt").read_text() + "\nsix==1.16.0\n")
    assert venv.key() != new, "so does a changed pin"


def test_prune_keeps_the_most_recently_used_environments(tmp_path: Path) -> None:
    for age, name in enumerate(["venv-old", "venv-mid", "venv-new", "venv-half-built"]):
        (tmp_path / name).mkdir()
        if name != "venv-half-built":
            marker = tmp_path / name / venv.COMPLETE
            marker.touch()
            os.utime(marker, (1000 + age, 1000 + age))
    venv.prune(tmp_path, keep_name="venv-mid")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["venv-mid", "venv-new"], left


def test_cache_dir_honours_the_environment_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BOOK_VENV_CACHE", str(tmp_path))
    assert venv.cache_dir() == tmp_path
    monkeypatch.delenv("BOOK_VENV_CACHE")
    assert venv.cache_dir() == Path.home() / ".cache" / "pytorch-in-practice"
