"""The recipe index lists all 65 recipes, and every link points at a real labelled section."""

from __future__ import annotations

import re

from tools.bookfiles import ROOT, notebooks, read
from tools.recipe_index import INDEX, ROW

ALL_IDS = [f"R{i:02d}" for i in range(1, 66)]


def defined_labels() -> dict[str, str]:
    """Map each MyST label `(name)=` in the book to the heading that follows it."""
    labels = {}
    pages = [(p, "\n".join(c.source for c in read(p).cells if c.cell_type == "markdown"))
             for p in notebooks()]  # fmt: skip
    pages += [(p, p.read_text(encoding="utf-8")) for p in (ROOT / "book").rglob("*.md")]
    for path, text in pages:
        for name, heading in re.findall(r"^\(([\w-]+)\)=\s*\n(#+ .+)$", text, re.M):
            assert name not in labels, f"label {name} defined twice ({path.name})"
            labels[name] = heading
    return labels


def test_index_has_every_recipe_once_in_order() -> None:
    ids = [m[0] for m in ROW.findall(INDEX.read_text(encoding="utf-8"))]
    assert ids == ALL_IDS


def test_every_recipe_links_to_a_heading_carrying_its_id() -> None:
    labels = defined_labels()
    for rid, _title, where in ROW.findall(INDEX.read_text(encoding="utf-8")):
        assert where != "planned", f"{rid} is still planned: every recipe must be taught"
        target = re.fullmatch(r"\{ref\}`([\w-]+)`", where)
        assert target, f"{rid}: link with {{ref}}`label`, got {where!r}"
        label = target.group(1)
        assert label in labels, f"{rid}: no section is labelled ({label})="
        assert rid in labels[label], f"{rid}: heading {labels[label]!r} should name its ID"


def test_every_recipe_heading_in_the_book_is_linked_from_the_index() -> None:
    text = INDEX.read_text(encoding="utf-8")
    for label, heading in defined_labels().items():
        if re.fullmatch(r"r\d\d", label):
            assert f"{{ref}}`{label}`" in text, f"{heading} is taught but the index says planned"
