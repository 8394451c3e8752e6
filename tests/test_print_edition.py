"""tools/print_edition.py: in the PDF an error output is its last exception, not the traceback."""

from __future__ import annotations

from tools.bookfiles import notebooks, read
from tools.fairness import ANSI
from tools.print_edition import last_exception


def test_every_error_output_of_the_book_prints_as_its_exception_and_whole_message() -> None:
    seen = 0
    for path in notebooks():
        for cell in read(path).cells:
            for out in cell.get("outputs", []):
                if out.output_type != "error":
                    continue
                traceback = ANSI.sub("", "\n".join(out.traceback))  # as myst-nb renders it
                short = last_exception(traceback)
                where = f"{path.name}: {out.ename}"
                assert short.startswith(f"{out.ename}:") or short == out.ename, where
                assert ANSI.sub("", out.evalue).strip() in short, where  # the message, every line
                assert "Traceback (most recent call last)" not in short, where
                assert "Cell In[" not in short, where
                seen += 1
    assert seen >= 50, "every exercise starter shows its self-check's message"


def test_a_chained_traceback_keeps_only_the_last_exception() -> None:
    text = (
        "KeyError                                  Traceback (most recent call last)\n"
        "Cell In[1], line 2\n----> 2 d['a']\n\nKeyError: 'a'\n\n"
        "During handling of the above exception, another exception occurred:\n\n"
        "ValueError                                Traceback (most recent call last)\n"
        "Cell In[1], line 4\n----> 4 raise ValueError('no a')\n\nValueError: no a\nHint: add it\n"
    )
    assert last_exception(text) == "ValueError: no a\nHint: add it"


def test_text_that_is_not_an_ipython_traceback_is_left_alone() -> None:
    plain = "Traceback (most recent call last):\n  File 'x.py', line 1\nValueError: x"
    assert last_exception(plain) == plain
    odd = "ValueError                                Traceback (most recent call last)\nno name line"
    assert last_exception(odd) == odd
