"""tools/execute.py joins the chunks of a stream, so regenerated outputs diff only where they differ."""

from __future__ import annotations

import nbformat

from tools.execute import coalesce_streams


def _stream(name: str, text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("stream", name=name, text=text)


def test_consecutive_chunks_of_one_stream_are_joined_and_nothing_else_moves() -> None:
    image = nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>"})
    cell = nbformat.v4.new_code_cell("...")
    cell.outputs = [
        _stream("stdout", "detach():        "),
        _stream("stdout", " tensor([0.])\n"),
        _stream("stderr", "UserWarning: x\n"),
        _stream("stdout", "after\n"),
        image,
        _stream("stdout", "a\n"),
        _stream("stdout", "b\n"),
    ]
    coalesce_streams(cell)
    kinds = [(o.output_type, o.get("name"), o.get("text")) for o in cell.outputs]
    assert kinds == [
        ("stream", "stdout", "detach():         tensor([0.])\n"),
        ("stream", "stderr", "UserWarning: x\n"),  # stderr between two prints stays between them
        ("stream", "stdout", "after\n"),
        ("display_data", None, None),
        ("stream", "stdout", "a\nb\n"),
    ]


def test_cells_without_outputs_are_left_alone() -> None:
    markdown = nbformat.v4.new_markdown_cell("# Title")
    coalesce_streams(markdown)
    assert "outputs" not in markdown
    empty = nbformat.v4.new_code_cell("x = 1")
    coalesce_streams(empty)
    assert empty.outputs == []
