"""PDF edition only: an error output is printed as its exception, not its whole traceback.

On the web page and in the notebook an error output is the traceback Jupyter shows: a header,
the learner's cell with an arrow at the failing line, then the exception and its message. In
print the cell is just above, so the frames only repeat it; under each of the 50 exercise
starters they took 8 to 20 lines before the message that matters. This Sphinx extension (a
local extension in _config.yml) cuts each traceback block of the LaTeX build to its last
exception: the line `Name: message` and the message's following lines. The HTML build is
untouched; `tools/pdfcheck.py` checks that no traceback header is left in the PDF.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

HEADER = re.compile(r"^(\S+)\s+Traceback \(most recent call last\)\s*$", re.M)


def last_exception(traceback: str) -> str:
    """The last exception of an IPython traceback (ANSI codes already stripped), from the line
    that names it to the end; the text unchanged when it has no IPython header."""
    headers = list(HEADER.finditer(traceback))
    if not headers:
        return traceback
    name = headers[-1].group(1)
    lines = traceback[headers[-1].end() :].splitlines()
    starts = [i for i, line in enumerate(lines) if line == name or line.startswith(f"{name}:")]
    if not starts:
        return traceback
    return "\n".join(lines[starts[-1] :]).rstrip()


class ShortTracebacks(SphinxPostTransform):
    """Replace each traceback block's text by its last exception (LaTeX builds only)."""

    default_priority = 10
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        for block in list(self.document.findall(nodes.literal_block)):
            if "traceback" not in block.get("classes", []):
                continue
            short = last_exception(block.astext())
            block.rawsource = short  # the LaTeX writer highlights rawsource, and must see them equal
            block.children = [nodes.Text(short)]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_post_transform(ShortTracebacks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
