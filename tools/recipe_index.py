"""Update the "taught in" column of book/appendix/recipe-index.md from the labelled sections.

Usage: python -m tools.recipe_index   (a recipe ID R07 is taught where a notebook defines `(r07)=`)
"""

from __future__ import annotations

import re

from tools.bookfiles import ROOT, read, toc_files

INDEX = ROOT / "book" / "appendix" / "recipe-index.md"
ROW = re.compile(r"^\| (R\d\d) \| (.+?) \| (.+?) \|$", re.M)


def taught_labels() -> set[str]:
    """Return the recipe labels (r01, r02, ...) that the notebooks listed in _toc.yml define."""
    found: set[str] = set()
    pages = [ROOT / f"{entry}.ipynb" for entry in toc_files()]
    for path in (p for p in pages if p.exists()):
        for cell in read(path).cells:
            if cell.cell_type == "markdown":
                found |= set(re.findall(r"^\((r\d\d)\)=\s*$", cell.source, re.M))
    return found


def main() -> None:
    labels = taught_labels()

    def row(m: re.Match[str]) -> str:
        rid, title = m.group(1), m.group(2)
        where = f"{{ref}}`{rid.lower()}`" if rid.lower() in labels else "planned"
        return f"| {rid} | {title} | {where} |"

    text = INDEX.read_text(encoding="utf-8")
    INDEX.write_text(ROW.sub(row, text), encoding="utf-8")
    print(f"{len(labels)} of {len(ROW.findall(text))} recipes are taught")


if __name__ == "__main__":
    main()
