"""Executes one notebook through Jupyter (nbclient) with the tslab kernel.

Usage: execute_notebook.py SOURCE.ipynb OUTPUT.ipynb TIMEOUT_SECONDS [SIGNATURE_DIR]

With STUDY_RUN_RECORD set (a JSON run record without its end), a successful run gets the record,
completed with its end and seconds, in metadata.graph_mmm.run before it is written and signed.

Prints one line per executed code cell to stdout (its number, first line and time), so that a
long run is never silent. Writes the executed copy to OUTPUT even when a cell fails, signed
(trusted) with the Jupyter data folder SIGNATURE_DIR when given, so that a notebook server using
that folder runs its plots when it is opened. On failure prints one JSON line
{"notebook", "cell", "source", "ename", "evalue"} to stderr and exits 1.
"""
import json
import re
import os
import sys
import time
from datetime import datetime, timezone

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError
from nbformat.sign import NotebookNotary


class ReportingClient(NotebookClient):
    """Reports each code cell's time as it finishes."""

    source_name = ""

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code":
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        started = time.monotonic()
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            first = next((l.strip() for l in cell.source.splitlines() if l.strip()), "")
            total = sum(1 for c in self.nb.cells if c.cell_type == "code")
            number = sum(1 for c in self.nb.cells[: cell_index + 1] if c.cell_type == "code")
            print(f"[notebooks] {self.source_name} cell {number}/{total} {time.monotonic() - started:7.1f} s  {first[:70]}", flush=True)


def main() -> int:
    src, out, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
    signatures = sys.argv[4] if len(sys.argv) > 4 else None
    nb = nbformat.read(src, as_version=4)
    client = ReportingClient(
        nb,
        kernel_name="tslab",
        timeout=timeout,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(src))}},
    )
    client.source_name = os.path.basename(src)
    # a record carried over from the source (a published notebook) does not describe this run
    nb.metadata.get("graph_mmm", {}).pop("run", None)
    status = 1
    try:
        client.execute()
        status = 0
    except (CellExecutionError, CellTimeoutError) as err:
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
        # the run's record (scripts/publish.ts), completed here so that it is part of what is signed
        record = os.environ.get("STUDY_RUN_RECORD")
        if record and status == 0:
            try:
                run = json.loads(record)
                finished = datetime.now(timezone.utc)
                started = datetime.fromisoformat(run["started"].replace("Z", "+00:00"))
                run["finished"] = finished.isoformat(timespec="milliseconds").replace("+00:00", "Z")
                run["seconds"] = round((finished - started).total_seconds(), 1)
                nb.metadata.setdefault("graph_mmm", {})["run"] = run
            except (ValueError, KeyError, TypeError) as err:
                print(f"[notebooks] {os.path.basename(src)}: no run record ({err})", file=sys.stderr, flush=True)
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        tmp = out + ".tmp"
        nbformat.write(nb, tmp)
        os.replace(tmp, out)
        if signatures:
            os.makedirs(signatures, exist_ok=True)
            NotebookNotary(data_dir=signatures).sign(nb)
    return status


if __name__ == "__main__":
    sys.exit(main())
