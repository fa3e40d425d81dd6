"""The notebooks are stored without outputs."""

from __future__ import annotations

import nbformat

from jobs.analysts import notebooks


def test_notebooks_are_stored_without_outputs():
    for path in notebooks.stored_notebooks():
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name} holds outputs"
