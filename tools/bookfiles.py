"""Facts about the book's files that the tools and the tests share (one place, no copies)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
SETUP_TAG = "remove-cell"
# The extra of pyproject.toml that a chapter's Colab set-up cell installs (None: only `helpers`,
# whose needs Colab already has). A structure test checks every chapter's imports against it.
CHAPTER_EXTRAS = {
    "02_tensors": "tensors",
    "06_training": "training",
    "07_checkpoints": "checkpoints",
    "10_compile": "export",
    "11_visualisation": "visualisation",
    "pitfalls": "pitfalls",
}


def config() -> dict:
    """Return `_config.yml` as a dict."""
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def toc_files() -> list[str]:
    """Return every `file:` of `_toc.yml` (root first), as paths without suffix, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return files


def notebooks() -> list[Path]:
    """Return every notebook under book/, sorted."""
    found = (ROOT / "book").rglob("*.ipynb")
    return sorted(p for p in found if ".ipynb_checkpoints" not in p.parts)


def repo_url() -> str:
    """Return the repository URL (kept once, in `_config.yml`)."""
    return config()["repository"]["url"].rstrip("/")


def setup_extra(path: Path) -> str | None:
    """Return the extra a notebook's set-up cell installs (None: the `helpers` package alone)."""
    return CHAPTER_EXTRAS.get(path.stem)


def setup_cell_source(extra: str | None = None) -> str:
    """Return the Colab set-up cell that opens a notebook (written from the repository URL)."""
    if extra:
        package = f"pytorch-in-practice[{extra}]"
        what = f"# package and this chapter's libraries (the `{extra}` extra)."
    else:
        package = "pytorch-in-practice"
        what = "# package (this chapter needs no other library)."
    return f'''# Colab set-up (hidden on the book's web pages). In Colab it installs the book's
# helpers {what[2:]}
# It changes none of Colab's own packages (torch, TensorFlow, protobuf...): every
# installed version is passed to pip as a constraint, so pip only adds what is
# missing. Safe to run twice.
# Anywhere else it does nothing: locally, `pip install -r requirements.txt`.
import subprocess
import sys

if "google.colab" in sys.modules:
    REPO = "{repo_url()}"
    pip = [sys.executable, "-m", "pip"]
    frozen = subprocess.run(
        [*pip, "list", "--format=freeze"], capture_output=True, text=True
    ).stdout
    with open("/tmp/colab-installed.txt", "w") as f:
        f.write("\\n".join(s for s in frozen.splitlines() if "==" in s))
    package = "{package} @ git+" + REPO
    subprocess.run(
        [*pip, "install", "-q", "-c", "/tmp/colab-installed.txt", package],
        check=True,
    )'''


def read(path: Path) -> nbformat.NotebookNode:
    """Read a notebook (nbformat 4)."""
    return nbformat.read(path, as_version=4)


def tags(cell: dict) -> list[str]:
    """Return a cell's tags."""
    return list(cell.get("metadata", {}).get("tags", []))
