"""Constants and paths both browser tests use (their fixtures are in conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

from tools.bookfiles import ROOT

SHOTS = ROOT / "_build" / "screenshots"
CHROME_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
    "--window-size=1280,1600",
]


def html_dir() -> Path:
    """The built HTML book: _build/html, or the folder BOOK_HTML names."""
    return Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
