"""Check the PDF edition: it opens, and every page of the table of contents is a chapter in it.

Usage: python -m tools.pdfcheck _build/latex/pytorch-in-practice.pdf   (run by `make pdf`)

Reads the PDF with poppler's pdfinfo and pdftotext. The book's root page gives the title page;
every other page of _toc.yml must open a chapter (a page that starts "CHAPTER", its number in
words, then its title in capitals: Sphinx's LaTeX style), so a title listed only in the table of
contents does not count. The glossary's Chinese terms must be in the text too (XeLaTeX with xeCJK
typesets them; without the font they would be left out).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tools.bookfiles import ROOT, read, toc_files

GLOSSARY_TERM = "张量"  # "tensor", the glossary's first term


def title(page: str) -> str:
    """The `# Title` of a page of the table of contents (notebook or Markdown)."""
    notebook, markdown = ROOT / f"{page}.ipynb", ROOT / f"{page}.md"
    text = read(notebook).cells[0].source if notebook.exists() else markdown.read_text(encoding="utf-8")
    return next(line[2:].strip() for line in text.splitlines() if line.startswith("# "))


def flat(text: str) -> str:
    """Text with runs of white space made single spaces (pdftotext breaks and spaces lines)."""
    return re.sub(r"\s+", " ", text)


def main(argv: list[str]) -> int:
    pdf = Path(argv[0] if argv else ROOT / "_build" / "latex" / "pytorch-in-practice.pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    openings = []  # the title on each chapter's first page
    for page in text.split("\f"):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        if lines[:1] == ["CHAPTER"]:
            openings.append(flat(" ".join(lines[2:6])))
    root, *chapters = toc_files()
    missing = [] if title(root) in text.split("\f")[0] else [f"the title page ({title(root)})"]
    for page in chapters:
        wanted = flat(title(page)).upper()
        if not any(opening.startswith(wanted) for opening in openings):
            missing.append(title(page))
    if GLOSSARY_TERM not in text:
        missing.append(f"the glossary's Chinese terms ({GLOSSARY_TERM})")
    size = pdf.stat().st_size / 2**20
    print(f"{pdf.relative_to(ROOT) if pdf.is_relative_to(ROOT) else pdf}: {pages} pages, {size:.1f} MiB")
    if missing:
        print("missing from the PDF: " + "; ".join(missing), file=sys.stderr)
        return 1
    print(f"the title page and all {len(chapters)} chapters of _toc.yml are in it")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
