"""Write the Colab set-up cell (repository URL from _config.yml, the chapter's extra) into every notebook.

Usage: python -m tools.setup_cells   (also run by `make setup-cells`)
"""

from __future__ import annotations

import nbformat

from tools.bookfiles import SETUP_TAG, notebooks, read, setup_cell_source, setup_extra, tags


def main() -> None:
    for path in notebooks():
        source = setup_cell_source(setup_extra(path))
        nb = read(path)
        code = [c for c in nb.cells if c.cell_type == "code"]
        if code and SETUP_TAG in tags(code[0]):
            cell = code[0]
        else:
            cell = nbformat.v4.new_code_cell(metadata={"tags": [SETUP_TAG]})
            nb.cells.insert(1, cell)  # after the title cell
        if cell.source != source:
            cell.source = source
            nbformat.write(nb, path)
            print(f"updated {path.name}")


if __name__ == "__main__":
    main()
