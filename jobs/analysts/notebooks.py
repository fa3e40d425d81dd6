"""`lakehouse notebooks [name ...]`: run the analyst notebooks against Trino; outputs go to notebooks/executed/.

The notebooks in notebooks/ are stored without outputs (so a diff shows only what changed in the code). Each runs
in a fresh Python kernel of this venv with the repository as its working folder, and finds Trino as every command
does (LAKEHOUSE_TRINO_URL). A failing cell stops its notebook: one line names the notebook, the cell and the error.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from traitlets.config import Config

from jobs.runtime.arguments import JobArgumentParser
from jobs.runtime.commands import command_parser
from jobs.runtime.exits import run_entry
from jobs.runtime.settings import REPO_ROOT, UsageError

NOTEBOOKS = REPO_ROOT / "notebooks"
EXECUTED = NOTEBOOKS / "executed"
CELL_TIMEOUT_SECONDS = 300


class NotebookFailed(RuntimeError):
    """A cell of a notebook raised: one line, exit status 1."""


def stored_notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def execute(path: Path) -> nbformat.NotebookNode:
    """The notebook with every cell run in order, outputs included; NotebookFailed names the first cell that raised."""
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="lakehouse-kernel-") as sockets:
        # Unix sockets rather than loopback TCP between this process and the kernel: private to this user, and the
        # kernel does not warn about an unencrypted channel.
        config = Config()
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = str(Path(sockets) / "kernel")
        client = NotebookClient(
            notebook,
            timeout=CELL_TIMEOUT_SECONDS,
            kernel_name="python3",
            resources={"metadata": {"path": str(REPO_ROOT)}},
            config=config,
        )
        try:
            client.execute()
        except CellExecutionError as error:
            where = failed_cell(notebook)
            raise NotebookFailed(f"{path.name}, {where}: {error.ename}: {error.evalue}") from None
    return notebook


def failed_cell(notebook: nbformat.NotebookNode) -> str:
    """`cell N of M` (counting every cell from 1, as a notebook's editor shows them) for the cell that failed."""
    for number, cell in enumerate(notebook.cells, start=1):
        if any(output.output_type == "error" for output in cell.get("outputs", [])):
            return f"cell {number} of {len(notebook.cells)}"
    return "a cell"


def build_parser() -> JobArgumentParser:
    parser = command_parser("notebooks", __doc__, settings=False)
    names = ", ".join(path.stem for path in stored_notebooks())
    parser.add_argument("names", nargs="*", metavar="name", help=f"any of: {names} (default all)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        known = {path.stem: path for path in stored_notebooks()}
        unknown = [name for name in args.names if name not in known]
        if unknown:
            raise UsageError(f"unknown notebook {unknown[0]!r} (one of: {', '.join(known)})")
        EXECUTED.mkdir(exist_ok=True)
        for name in args.names or known:
            notebook = execute(known[name])
            nbformat.write(notebook, EXECUTED / f"{name}.ipynb")
            print(f"{name:<20} ran {len(notebook.cells)} cells -> {EXECUTED / name}.ipynb", flush=True)

    return run_entry("lakehouse notebooks", work)


if __name__ == "__main__":
    sys.exit(main())
