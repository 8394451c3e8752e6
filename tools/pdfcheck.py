"""Check the PDF edition: every chapter and part is in it, and it is fit to print.

Usage: python -m tools.pdfcheck _build/latex/pytorch-in-practice.pdf   (run by `make pdf`)
       python -m tools.pdfcheck --parts _build/latex/bookparts.def  (before the build: the
       parts of _toc.yml for book/_latex/pytorchinpractice.sty)

Reads the PDF with poppler's pdfinfo and pdftotext. The book's root page gives the title page;
every other page of _toc.yml must open a chapter (a page that starts "CHAPTER", its number in
words, then its title in capitals: Sphinx's LaTeX style), so a title listed only in the table of
contents does not count. The glossary's Chinese terms must be in the text too (XeLaTeX with xeCJK
typesets them; without the font they would be left out). Fit to print: a page count in a sane
range, no tooling markers (`NBVAL_`, `fmt: skip`), no whole tracebacks (tools/print_edition.py
prints the last exception), no missing space after a curly quote (xeCJK ate them when it took
quotes for Chinese punctuation), no exercise solutions (they are left out of print), and few
lines that run into the margin (overfull boxes in the LaTeX log).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tools.bookfiles import ROOT, read, toc_files

GLOSSARY_TERM = "张量"  # "tensor", the glossary's first term
PAGES = range(150, 601)  # 404 pages before the print layout
MARKERS = ("NBVAL_", "fmt: skip", "fmt: off")
# Tracebacks are printed as their last exception only (tools/print_edition.py).
TRACEBACK_LINES = ("Traceback (most recent call last)", "Cell In[")
# A closing double quote glued to the next word, or a word glued to an opening one. (A single
# quote cannot tell: "don’t" is right.)
GLUED_QUOTE = re.compile(r"\w“|”\w")
OVERFULL = re.compile(r"^Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)", re.M)
OVERFULL_PT = 10  # a line more than this past the margin is visibly cut or runs off the page
OVERFULL_MAX = 0  # how many such lines the whole book may have (widest today: 7 pt)


def toc_parts() -> list[tuple[int, str]]:
    """(N, caption) for each part of _toc.yml: its first chapter is the N-th file after the root."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    parts, n = [], 0
    for part in toc.get("parts", []):
        parts.append((n + 1, part["caption"]))
        n += len(part.get("chapters", []))
    return parts


def write_parts(path: Path) -> None:
    """The parts for the LaTeX build, as \\pippart{N}{Caption} lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"\\pippart{{{n}}}{{{caption}}}" for n, caption in toc_parts()]
    path.write_text("% written by tools/pdfcheck.py from _toc.yml\n" + "\n".join(lines) + "\n")


def title(page: str) -> str:
    """The `# Title` of a page of the table of contents (notebook or Markdown)."""
    notebook, markdown = ROOT / f"{page}.ipynb", ROOT / f"{page}.md"
    text = read(notebook).cells[0].source if notebook.exists() else markdown.read_text(encoding="utf-8")
    return next(line[2:].strip() for line in text.splitlines() if line.startswith("# "))


def flat(text: str) -> str:
    """Text with runs of white space made single spaces (pdftotext breaks and spaces lines)."""
    return re.sub(r"\s+", " ", text)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--parts"]:
        write_parts(Path(argv[1]))
        return 0
    pdf = Path(argv[0] if argv else ROOT / "_build" / "latex" / "pytorch-in-practice.pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    openings = []  # the title on each chapter's first page
    for page in text.split("\f"):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        if lines[:1] in (["CHAPTER"], ["APPENDIX"]):
            openings.append(flat(" ".join(lines[2:6])))
    root, *chapters = toc_files()
    missing = [] if title(root) in text.split("\f")[0] else [f"the title page ({title(root)})"]
    for page in chapters:
        wanted = flat(title(page)).upper()
        if not any(opening.startswith(wanted) for opening in openings):
            missing.append(title(page))
    if GLOSSARY_TERM not in text:
        missing.append(f"the glossary's Chinese terms ({GLOSSARY_TERM})")
    problems = []
    pages_text = [flat(page) for page in text.split("\f")]
    for caption in (caption for _, caption in toc_parts()):
        if not any(f" {caption} " in f" {page} " and len(page) < 80 for page in pages_text):
            missing.append(f"the part page {caption!r}")
    if pages not in PAGES:
        problems.append(f"{pages} pages, outside {PAGES.start}-{PAGES.stop - 1}")
    for marker in MARKERS:
        if marker in text:
            problems.append(f"the tooling marker {marker!r} is printed")
    for line in TRACEBACK_LINES:
        if line in text:
            problems.append(f"{text.count(line)} tracebacks printed whole ({line!r})")
    glued = [flat(text[max(0, m.start() - 20) : m.end() + 20]) for m in GLUED_QUOTE.finditer(text)]
    if glued:
        problems.append(f"{len(glued)} quotes with no space, e.g. {glued[0]!r}")
    solutions = flat(text).count("Solution to Exercise")
    notes = flat(text).count("in the web edition and the notebook")  # the stand-in line
    if solutions > notes:
        problems.append(f"{solutions - notes} exercise solutions are printed")
    log = pdf.with_suffix(".log")
    if log.exists():
        widths = [float(w) for w in OVERFULL.findall(log.read_text(errors="replace"))]
        wide = [w for w in widths if w > OVERFULL_PT]
        print(
            f"{len(wide)} lines run more than {OVERFULL_PT} pt into the margin "
            f"(at most {OVERFULL_MAX}; widest {max(widths, default=0):.0f} pt)"
        )
        if len(wide) > OVERFULL_MAX:
            problems.append(f"{len(wide)} lines run more than {OVERFULL_PT} pt into the margin")
    size = pdf.stat().st_size / 2**20
    print(f"{pdf.relative_to(ROOT) if pdf.is_relative_to(ROOT) else pdf}: {pages} pages, {size:.1f} MiB")
    if missing or problems:
        if missing:
            print("missing from the PDF: " + "; ".join(missing), file=sys.stderr)
        if problems:
            print("not fit to print: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(f"the title page, all {len(chapters)} chapters and all parts of _toc.yml are in it")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
