"""Every ```python block of the cheat sheet runs: one fresh namespace per `##` section, in order."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

from tools.bookfiles import ROOT

PAGE = ROOT / "book" / "appendix" / "cheatsheet.md"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


def sections(text: str) -> list[tuple[str, list[str]]]:
    """Return (title, python blocks) for every `##` section of a MyST page, in page order."""
    parts = re.split(r"^## +(.+?)[ \t]*$", text, flags=re.M)
    return [(title, FENCE.findall(body)) for title, body in zip(parts[1::2], parts[2::2])]


SECTIONS = sections(PAGE.read_text(encoding="utf-8"))


def test_the_page_has_the_groups_of_the_notes() -> None:
    titles = [title for title, _ in SECTIONS]
    assert len(titles) >= 8, titles
    for title, blocks in SECTIONS:
        assert blocks, f"section '{title}' has no python block"


def test_every_section_links_to_the_book() -> None:
    text = PAGE.read_text(encoding="utf-8")
    parts = re.split(r"^## +.+$", text, flags=re.M)[1:]
    for (title, _), body in zip(SECTIONS, parts):
        assert re.search(r"\{ref\}`(R\d\d <)?r\d\d>?`", body), f"section '{title}' links to no recipe"


def test_the_parser_splits_sections_and_blocks() -> None:
    text = "# T\n\n## A\n\n```python\nx = 1\n```\n\n```bash\nls\n```\n\n## B\n\n```python\ny = 2\n```\n"
    assert sections(text) == [("A", ["x = 1\n"]), ("B", ["y = 2\n"])]


@pytest.mark.parametrize("title, blocks", SECTIONS, ids=[title for title, _ in SECTIONS])
def test_section_runs(title: str, blocks: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    matplotlib.use("Agg")  # figures are saved to files, never shown
    monkeypatch.chdir(tmp_path)  # the snippets write their files here
    namespace: dict = {"__name__": "__cheatsheet__"}
    for number, block in enumerate(blocks, start=1):
        try:
            exec(compile(block, f"cheatsheet.md, section '{title}', block {number}", "exec"), namespace)
        except Exception as err:  # noqa: BLE001 - any failure of a snippet is reported the same way
            first = str(err).splitlines()[0] if str(err) else ""
            pytest.fail(
                f"cheat sheet section '{title}', python block {number} of {len(blocks)} raised "
                f"{type(err).__name__}: {first}\n--- the block ---\n{block}",
                pytrace=False,
            )
