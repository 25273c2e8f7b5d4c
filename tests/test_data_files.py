"""A run on data in files: the checkpoint records the data's digest and columns, the script reproduces the run,
and ``python -m lucky5 --data`` trains on a file."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import torch

from lucky5 import Config, checkpoint, train
from lucky5.data import Data, from_rule, read_csv, sample_csv, write_csv
from lucky5.export import DATA_FILE, standalone_script
from lucky5.theory import data_critical_lr, data_fit
from tests.helpers import lucky5_file
from tests.test_cli import bad, run


@pytest.fixture(scope="module")
def data():
    return from_rule("1 + 2*x1 - x2", 500, seed=3, width=2)


def test_a_written_sample_reads_back_to_the_same_data(data):
    again = read_csv(write_csv(data))
    assert again.digest == data.digest and again.feature_names == ("x1", "x2") and again.target_name == "y"


def test_the_checkpoint_records_the_data_s_digest_and_columns_and_the_run_s_fingerprint(data):
    history = train(Config(epochs=200), data=data)
    loaded = checkpoint.load(checkpoint.to_bytes(history))
    assert loaded.data == data.digest and loaded.columns == ("x1", "x2", "y")
    assert loaded.fingerprint() == history.fingerprint() != loaded.trained.fingerprint()
    assert loaded.notices == ()
    again = checkpoint.load(checkpoint.to_bytes(loaded))  # a checkpoint saved again keeps them
    assert (again.data, again.columns) == (loaded.data, loaded.columns)
    plain = checkpoint.load(checkpoint.to_bytes(train(Config(epochs=20))))
    assert (plain.data, plain.columns) == ("", ())


@pytest.mark.parametrize(
    ("metadata", "notice", "columns"),
    [
        ({"data": "not a digest", "columns": '["a", "y"]'}, "not 64 hexadecimal digits", ()),
        ({"data": "a" * 64, "columns": "[1, 2]"}, "column names", ()),
        ({"data": "a" * 64, "columns": "{"}, "column names", ()),
        ({"data": "a" * 64, "columns": json.dumps(["x\u001b[2J", "y"])}, "column names", ()),
        ({"data": "a" * 64, "columns": json.dumps(["c"] * 12)}, "column names", ()),
        ({"data": "a" * 64, "columns": '["a", "y"]'}, None, ("a", "y")),
    ],
)
def test_bad_data_metadata_is_a_notice_not_a_refusal(metadata, notice, columns):
    tensors = {"weight": torch.zeros(1, 10), "bias": torch.zeros(1)}
    loaded = checkpoint.load(lucky5_file(tensors, **metadata))
    assert loaded.columns == columns
    if notice is None:
        assert loaded.notices == () and loaded.data == "a" * 64
    else:
        assert any(notice in n for n in loaded.notices), loaded.notices


def test_the_command_line_trains_on_a_file_and_says_what_theory_expects(capsys, tmp_path, data):
    path = tmp_path / "mine.csv"
    path.write_bytes(write_csv(data))
    out = run(capsys, "--data", str(path), "--epochs", "3000", "--save", str(tmp_path / "run.safetensors"))
    history = train(Config(epochs=3000), data=data)
    assert f"last step's loss {float(history.losses[-1]):.6g}" in out
    assert checkpoint.load(tmp_path / "run.safetensors").data == data.digest
    fit = data_fit(data)
    assert f"w = [{fit.weight[0]:.4g}, {fit.weight[1]:.4g}], b = {fit.bias:.4g}" in out
    limit = float(re.search(r"settles below lr ≈ (\S+);", out).group(1))
    assert limit == pytest.approx(data_critical_lr(data, 1, 0.1), rel=1e-3)
    standardized = run(capsys, "--data", str(path), "--epochs", "10", "--standardize")
    assert data.standardized().digest[:12] in standardized


def test_the_command_line_names_collinear_columns_as_the_page_does(capsys, tmp_path):
    """A column that is another plus a constant: the CLI names both (theory's data_collinear), not one "some"."""
    x = torch.rand(200, 1, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    features = torch.cat([x, x + 3, torch.rand(200, 1, generator=torch.Generator().manual_seed(5))], 1)
    twin = Data.of(features.float(), (1 + 2 * x[:, 0]).float(), ("a", "a plus 3", "c"), "y")
    path = tmp_path / "twin.csv"
    path.write_bytes(write_csv(twin))
    out = run(capsys, "--data", str(path), "--epochs", "5")
    assert "Some columns are constant or a combination of others ('a', 'a plus 3'): many layers fit" in out
    assert "'c'" not in out.split("Some columns")[1].split(":")[0]


def test_the_command_line_refuses_a_bad_file_in_one_line(capsys, tmp_path):
    path = tmp_path / "hostile.csv"
    path.write_bytes(b'x,y\n1,=HYPERLINK("http://x")\n')
    line = bad(capsys, "--data", str(path))
    assert "hostile.csv" in line and "spreadsheet formula" in line
    assert "no such" in bad(capsys, "--data", str(tmp_path / "missing.csv")).lower()
    assert "--data" in bad(capsys, "--standardize")
    assert "drop --rule" in bad(capsys, "--data", str(path), "--rule", "1 + x1")


@pytest.mark.parametrize(
    ("config", "standardize"),
    [(Config(epochs=300, lr=0.05), False), (Config(epochs=200, noise=0.3, seed=5, momentum=0.5), True)],
)
def test_the_script_of_a_data_run_reproduces_it_bit_for_bit(tmp_path, data, config, standardize):
    """The script reads the rows write_csv wrote beside it and picks them as the engine does."""
    data = data.standardized() if standardize else data
    (tmp_path / DATA_FILE).write_bytes(write_csv(data))
    script = tmp_path / "lucky5_run.py"
    script.write_text(standalone_script(config, data))
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(":", 1) for line in out.stdout.strip().splitlines())
    history = train(config, data=data)
    assert torch.equal(torch.tensor(json.loads(lines["weights"]), dtype=torch.float32), history.weights[-1])
    assert torch.tensor(float(lines["bias"]), dtype=torch.float32) == history.biases[-1]


def test_the_sample_file_reads_back_and_its_fit_is_its_rule():
    sample = read_csv(sample_csv())
    assert sample_csv() == sample_csv() and sample.feature_names == ("x1", "x2", "x3") and sample.rows == 200
    fit = data_fit(sample)
    assert abs(fit.bias - 2) < 0.1 and abs(fit.weight[0]) < 0.1
    assert abs(fit.weight[1] - 4) < 0.1 and abs(fit.weight[2] + 1) < 0.1
    assert fit.floor == pytest.approx(0.1**2, rel=0.3)  # the noise is what no layer fits
