"""Executes one notebook through Jupyter (nbclient) with the tslab kernel.

Usage: execute_notebook.py SOURCE.ipynb OUTPUT.ipynb TIMEOUT_SECONDS

Writes the executed copy to OUTPUT even when a cell fails; on failure prints one JSON line
{"notebook", "cell", "source", "ename", "evalue"} to stderr and exits 1.
"""
import asyncio
import json
import re
import os
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError


# Seconds between a cell's reply and the next cell's request. tslab sends on Jupyter's sockets
# without waiting for the previous send: a request that arrives while a cell's last output (a
# figure with the inlined plotly bundle is megabytes) is still being sent makes it publish its
# "busy" status on a busy socket, and the kernel dies ("Socket is busy writing"; seen once in a
# paper-scale run of notebook 03). A short pause lets the pending send finish.
CELL_PAUSE = 0.3


class PacedClient(NotebookClient):
    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type == "code":
            await asyncio.sleep(CELL_PAUSE)
        return await super().async_execute_cell(cell, cell_index, execution_count, store_history)


def main() -> int:
    src, out, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
    nb = nbformat.read(src, as_version=4)
    client = PacedClient(
        nb,
        kernel_name="tslab",
        timeout=timeout,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(src))}},
    )
    status = 0
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as err:
        status = 1
        # nbclient stops at the failing cell: the last code cell that has started.
        started = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count")]
        index = started[-1] if started else 0
        cell = nb.cells[index]
        outputs = cell.get("outputs", [])
        errors = [o for o in outputs if o.get("output_type") == "error"]
        # tslab reports an exception on the cell's stderr stream rather than as an error output.
        stderr = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr")
        if errors:
            ename, evalue = errors[0].get("ename", ""), errors[0].get("evalue", "")
        elif stderr.strip():
            lines = [l.strip() for l in stderr.splitlines() if l.strip()]
            # The message line ("Error: ...", "TypeError: ...") follows a source excerpt.
            first = next((l for l in lines if re.match(r"^([A-Za-z_$][\w$]*)?(Error|Exception)\b", l)), lines[0])
            ename, _, evalue = first.partition(": ") if ": " in first else ("Error", "", first)
        else:
            ename, evalue = type(err).__name__, str(err).strip().splitlines()[-1]
        print(json.dumps({
            "notebook": os.path.basename(src),
            "cell": index + 1,
            "source": cell.source.splitlines()[:3],
            "ename": ename,
            "evalue": evalue,
        }), file=sys.stderr)
    finally:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        tmp = out + ".tmp"
        nbformat.write(nb, tmp)
        os.replace(tmp, out)
    return status


if __name__ == "__main__":
    sys.exit(main())
