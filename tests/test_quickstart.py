"""docs/quickstart.ipynb: stored without outputs, and every cell executes."""

import pathlib

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "quickstart.ipynb"


def test_the_notebook_is_stored_without_outputs():
  notebook = nbformat.read(NOTEBOOK, as_version=4)
  nbformat.validate(notebook)
  code = [cell for cell in notebook.cells if cell.cell_type == "code"]
  assert code and all(not cell.outputs and cell.execution_count is None for cell in code), (
      "strip the outputs before committing (e.g. jupyter nbconvert --clear-output --inplace docs/quickstart.ipynb)")


@pytest.mark.slow
def test_the_notebook_executes(monkeypatch, tmp_path):
  from nbclient import NotebookClient
  monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel imports this checkout's `research`
  notebook = nbformat.read(NOTEBOOK, as_version=4)
  NotebookClient(notebook, timeout=600, kernel_name="python3",
                 resources={"metadata": {"path": str(ROOT)}}).execute()
  text = "".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", []))
  assert "better:" in text and "test accuracy" in text
  images = [o for cell in notebook.cells for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
  assert len(images) == 2  # the confusion matrix and the learning curve
  assert "| none |" in text  # the TFLite export's table (MiniRocket wins on BasicMotions)
