"""No credential of any kind anywhere in the tree (one source note once held a GitHub token)."""

from __future__ import annotations

import re
from pathlib import Path

from tools.bookfiles import ROOT

# Built from pieces so that this file itself contains no token-looking string.
PATTERNS = {
    "GitHub token": re.compile(r"\b(gh[pousr]_|github_pat_)[A-Za-z0-9_]{20,}"),
    "AWS access key": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "Hugging Face token": re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"),
    "OpenAI key": re.compile(r"\bsk-[A-Za-z0-9_-]{32,}\b"),
}
SKIP_DIRS = {
    ".git",
    ".venv",
    ".venv-compat",
    ".gpu-wheels",
    "_build",
    "student",
    "__pycache__",
    ".ipynb_checkpoints",
}


def scan(root: Path) -> list[str]:
    """Return 'path: kind' for every credential-like string under `root`."""
    hits = []
    for path in root.rglob("*"):
        if not path.is_file() or SKIP_DIRS & set(path.relative_to(root).parts):
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        hits += [f"{path.relative_to(root)}: {kind}" for kind, rx in PATTERNS.items() if rx.search(text)]
    return hits


def test_the_tree_holds_no_credentials() -> None:
    assert scan(ROOT) == []


def test_the_scanner_finds_planted_tokens(tmp_path: Path) -> None:
    fake = {
        "a.txt": "token " + "ghp" + "_" + "A1b2C3d4" * 5,
        "b.ipynb": '{"x": "github' + "_pat_" + "11ABC" * 6 + '"}',
        "c.py": "key = '" + "AKIA" + "ABCDEFGHIJKLMNOP" + "'",
        "d.pem": "-----BEGIN " + "RSA PRIVATE KEY-----\n...",
        "ok.md": "ghp is just letters; AKIA alone is fine.",
    }
    for name, text in fake.items():
        (tmp_path / name).write_text(text)
    assert sorted(scan(tmp_path)) == [
        "a.txt: GitHub token",
        "b.ipynb: GitHub token",
        "c.py: AWS access key",
        "d.pem: private key",
    ]
