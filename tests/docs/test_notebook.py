"""The example notebook runs as committed, offline, against the bundled snapshot.

``examples/april_2025.ipynb`` is executed with nbclient in a kernel started from this
interpreter (the venv), its working directory ``examples/``, ``BACKTEST_OFFLINE=1``
and a private cache; the test may open sockets to loopback only (the kernel's
channels). The CAR of UST10Y over days 0..+6 of Liberation Day is checked against the
bundled FRED file read here (raw model: DGS10 on 2025-04-11, day +6, minus 2025-04-02,
day -1: +28 bp, as quoted in ``docs/tutorial_april_2025.md``); the attribution identity
(every component but funding adds up to the daily return) is checked in the notebook.

Kind: an execution check with hand-checked numbers.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from jupyter_client.kernelspec import NATIVE_KERNEL_NAME
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "examples" / "april_2025.ipynb"


def test_committed_notebook_has_no_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.slow
@pytest.mark.allow_hosts(["127.0.0.1", "::1"])  # the kernel's channels, on loopback only
def test_notebook_executes_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKTEST_OFFLINE", "1")
    # the kernel imports this checkout, whichever environment it was installed from
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(REPO), path) if p))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=NATIVE_KERNEL_NAME,  # ipykernel of this interpreter
        timeout=300,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    outputs = {
        cell.id: "".join(
            str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
            for o in cell.outputs
        )
        for cell in nb.cells
        if cell.cell_type == "code"
    }
    errors = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in errors if o.output_type == "error"]
    dgs10 = pd.read_csv(REPO / "data" / "snapshot" / "DGS10.csv", index_col=0).iloc[:, 0]
    expected = 100 * (float(dgs10["2025-04-11"]) - float(dgs10["2025-04-02"]))  # 28 bp
    car_row = next(line for line in outputs["car"].splitlines() if "liberation_day" in line)
    assert car_row.split()[2] == f"{expected:.1f}"  # columns: UST2Y, UST10Y, ...
    assert "kolari_pynnonen" in outputs["tests"] and "treasuries" in outputs["tests"]
    assert "sharpe" in outputs["strategy"] and "total_return" in outputs["strategy"]
    assert "carry" in outputs["attribution"] and "total" in outputs["attribution"]
    assert float(outputs["identity"]) < 1e-12
