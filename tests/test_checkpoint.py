"""lucky5.checkpoint: the round trip, every refusal with its message, and that a pickle never runs."""

from __future__ import annotations

import json
import pathlib
import pickle
import struct
from collections.abc import Callable

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save as st_save
from torch import nn

from lucky5 import Config, train
from lucky5.checkpoint import MAX_BYTES, PICKLE_MESSAGE, CheckpointError, load, save, to_bytes
from lucky5.config import to_query

LUCKY5_METADATA = {"format": "lucky5", "version": "1", "config": json.dumps(to_query(Config()))}
NON_DEFAULT = Config(
    epochs=40, optimizer="adam", lr=0.05, target=-2.5, batch_size=4, seed=7, betas=(0.8, 0.99), amsgrad=True
)


def good_tensors() -> dict[str, torch.Tensor]:
    return {"weight": torch.full((1, 10), 0.25), "bias": torch.tensor([4.5])}


def lucky5_file(tensors: dict[str, torch.Tensor], **metadata: str) -> bytes:
    """A safetensors file with lucky5's metadata (overridable), whatever the tensors."""
    return st_save(tensors, metadata={**LUCKY5_METADATA, **metadata})


def raw_safetensors(header: dict, data: bytes, header_length: int | None = None) -> bytes:
    """A safetensors file written by hand, so that tests can break what safetensors.save would not."""
    text = json.dumps(header).encode()
    text = text.ljust(header_length or len(text))  # safetensors allows trailing spaces in the header
    return struct.pack("<Q", len(text)) + text + data


@pytest.fixture(scope="module")
def history():
    return train(Config(epochs=50))


# --- round trip -----------------------------------------------------------------------------


@pytest.mark.parametrize("config", [Config(epochs=50), NON_DEFAULT], ids=["default", "non-default"])
def test_round_trip_through_a_file_keeps_parameters_and_config(tmp_path, config):
    history = train(config)
    path = save(tmp_path / "layer.safetensors", history)
    loaded = load(path)
    assert loaded.config == config
    assert loaded.notices == ()
    assert torch.equal(loaded.weight, history.final_weight.unsqueeze(0))
    assert torch.equal(loaded.bias, history.biases[-1:])
    assert loaded.weight.dtype == loaded.bias.dtype == torch.float32
    layer, trained = loaded.layer(), history.layer()
    assert torch.equal(layer.weight, trained.weight) and torch.equal(layer.bias, trained.bias)


def test_bytes_str_and_path_sources_load_the_same(tmp_path, history):
    data = to_bytes(history)
    path = tmp_path / "layer.safetensors"
    path.write_bytes(data)
    for source in (data, bytearray(data), str(path), path):
        loaded = load(source)
        assert torch.equal(loaded.weight[0], history.final_weight) and loaded.config == history.config


def test_a_layer_saves_with_the_config_it_is_given(history):
    loaded = load(to_bytes(history.layer(), NON_DEFAULT))
    assert loaded.config == NON_DEFAULT
    assert torch.equal(loaded.weight[0], history.final_weight)
    # a Checkpoint saves again unchanged (compared loaded: safetensors orders metadata keys freely)
    again = load(to_bytes(loaded))
    assert torch.equal(again.weight, loaded.weight) and again.config == loaded.config


def test_the_file_is_safetensors_with_lucky5_metadata(tmp_path, history):
    path = save(tmp_path / "layer.safetensors", history, NON_DEFAULT)
    with safe_open(path, framework="pt") as f:
        assert set(f.keys()) == {"weight", "bias"}
        metadata = f.metadata()
    assert metadata["format"] == "lucky5" and metadata["version"] == "1"
    assert json.loads(metadata["config"]) == to_query(NON_DEFAULT)
    assert path.stat().st_size < 1000


def test_layer_is_fresh_each_time(history):
    checkpoint = load(to_bytes(history))
    first = checkpoint.layer()
    with torch.no_grad():
        first.weight.zero_()
    assert torch.equal(checkpoint.layer().weight[0], history.final_weight)


def test_saving_refuses_what_load_would_refuse():
    with pytest.raises(TypeError, match="needs the Config"):
        to_bytes(nn.Linear(10, 1))
    with pytest.raises(ValueError, match="nn.Linear\\(10, 1\\)"):
        to_bytes(nn.Linear(5, 2), Config())
    layer = nn.Linear(10, 1)
    with torch.no_grad():
        layer.bias.fill_(float("inf"))
    with pytest.raises(ValueError, match="non-finite"):
        to_bytes(layer, Config())


def test_a_header_length_that_starts_like_a_pickle_still_loads():
    # 640 = 0x280: the file starts with b"\x80\x02", a pickle protocol-2 opening.
    tensors = good_tensors()
    header = {
        "__metadata__": LUCKY5_METADATA,
        "bias": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
        "weight": {"dtype": "F32", "shape": [1, 10], "data_offsets": [4, 44]},
    }
    data = tensors["bias"].numpy().tobytes() + tensors["weight"].numpy().tobytes()
    file = raw_safetensors(header, data, header_length=640)
    assert file[:2] == b"\x80\x02"
    assert torch.equal(load(file).weight, tensors["weight"])


# --- the Config in the metadata is restored tolerantly ---------------------------------------


def test_bad_settings_in_the_metadata_become_notices():
    config = json.dumps({"epochs": "300", "lr": "fast", "colour": "red"})
    loaded = load(lucky5_file(good_tensors(), config=config))
    assert loaded.config == Config(epochs=300)
    assert len(loaded.notices) == 2
    assert any("lr" in n for n in loaded.notices) and any("colour" in n for n in loaded.notices)


@pytest.mark.parametrize("config", ["not json", "[1, 2]", "null", "[" * 100_000, None])
def test_unreadable_config_metadata_falls_back_to_defaults(config):
    metadata = {**LUCKY5_METADATA, "config": config}
    if config is None:
        del metadata["config"]
    loaded = load(st_save(good_tensors(), metadata=metadata))
    assert loaded.config == Config()
    assert loaded.notices and "missing or unreadable" in loaded.notices[0]


# --- refusals ------------------------------------------------------------------------------


def _valid() -> bytes:
    return lucky5_file(good_tensors())


def _header_json_broken() -> bytes:
    data = bytearray(_valid())
    data[9] = ord("x")  # the header's first key loses its opening quote
    return bytes(data)


def _deeply_nested_header() -> bytes:
    header = b'{"a": ' + b"[" * 100_000  # json.loads would recurse until Python's limit
    return struct.pack("<Q", len(header)) + header


def _overlapping_offsets() -> bytes:
    header = {
        "__metadata__": LUCKY5_METADATA,
        "bias": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
        "weight": {"dtype": "F32", "shape": [1, 10], "data_offsets": [0, 40]},
    }
    return raw_safetensors(header, bytes(44))


def changed(**tensors: torch.Tensor) -> Callable[[], bytes]:
    """A lucky5 file whose tensors are the good ones with some replaced or added."""
    return lambda: lucky5_file({**good_tensors(), **tensors})


def _random_bytes() -> bytes:
    return bytes(torch.randint(0, 256, (500,), generator=torch.Generator().manual_seed(1)).tolist())


REFUSALS = {
    "empty": (lambda: b"", "the file is empty"),
    "too short": (lambda: b"\x01\x02", "too short"),
    "truncated data": (lambda: _valid()[:-3], "truncated"),
    "truncated header": (lambda: _valid()[:60], "truncated"),
    "truncated after length": (lambda: _valid()[:8], "truncated"),
    "random bytes": (_random_bytes, "not a safetensors file"),
    "text": (lambda: b"my lucky number is 5\n", "not a safetensors file"),
    "header not json": (_header_json_broken, "not valid JSON"),
    "header nested deep": (_deeply_nested_header, "not valid JSON"),
    "overlapping data": (_overlapping_offsets, "damaged"),
    "pickled state dict": (lambda: pickle.dumps(nn.Linear(10, 1).state_dict()), PICKLE_MESSAGE),
    "pickle protocol 2": (lambda: pickle.dumps({"weight": [0.0] * 10}, protocol=2), PICKLE_MESSAGE),
    "missing bias": (lambda: lucky5_file({"weight": torch.zeros(1, 10)}), "missing tensor bias"),
    "extra tensor": (changed(hidden=torch.zeros(1)), "unexpected tensor 'hidden'"),
    "weight shape": (changed(weight=torch.zeros(10)), r"shape \[10\]; it must be \[1, 10\]"),
    "weight 11 wide": (changed(weight=torch.zeros(1, 11)), r"it must be \[1, 10\]"),
    "bias shape": (changed(bias=torch.zeros(2)), r"bias has shape \[2\]"),
    "weight float64": (changed(weight=torch.zeros(1, 10, dtype=torch.float64)), "dtype F64"),
    "bias float16": (changed(bias=torch.zeros(1, dtype=torch.float16)), "dtype F16"),
    "nan weight": (changed(weight=torch.full((1, 10), float("nan"))), "non-finite"),
    "inf bias": (changed(bias=torch.tensor([float("-inf")])), "non-finite"),
    "no metadata": (lambda: st_save(good_tensors()), "not a lucky5 checkpoint"),
    "transformers file": (
        lambda: st_save({"lm_head.weight": torch.zeros(2, 2)}, {"format": "pt"}),
        "not a lucky5 checkpoint .*lm_head.weight",
    ),
    "newer version": (lambda: lucky5_file(good_tensors(), version="2"), "version '2'"),
    "over 1 MB": (lambda: bytes(MAX_BYTES + 1), "over the 1 MB limit"),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_load_refuses_with_a_clear_message(name, tmp_path):
    make, message = REFUSALS[name]
    data = make()
    with pytest.raises(CheckpointError, match=message):
        load(data)
    # the same file from disk gives the same message
    path = tmp_path / "upload.safetensors"
    path.write_bytes(data)
    with pytest.raises(CheckpointError, match=message):
        load(path)


def test_checkpoint_error_is_a_value_error():
    assert issubclass(CheckpointError, ValueError)


def test_missing_file_and_directory_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="there is no file"):
        load(tmp_path / "nowhere.safetensors")
    with pytest.raises(CheckpointError, match="is not a file"):
        load(tmp_path)


def test_a_huge_file_is_refused_from_its_size_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "huge.safetensors"
    with path.open("wb") as f:
        f.truncate(50 * 2**30)  # 50 GB, sparse: no disk is used, but reading it would never end
    opened = []
    monkeypatch.setattr(pathlib.Path, "open", lambda *a, **k: opened.append(a))
    with pytest.raises(CheckpointError, match="53,687,091,200 bytes, over the 1 MB limit"):
        load(path)
    assert opened == []


# --- pickles never run -----------------------------------------------------------------------


class Payload:
    """A pickle that writes a marker file the moment it is unpickled."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.write_text, (self.marker, "pwned"))


@pytest.fixture
def no_unpickling(monkeypatch):
    """Make every unpickling entry point fail loudly while lucky5 loads."""

    def forbidden(*args, **kwargs):
        raise AssertionError("lucky5 must never unpickle")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    monkeypatch.setattr(torch, "load", forbidden)


def test_the_payload_really_runs_when_unpickled(tmp_path):
    # The control: without this, the tests below could pass with a harmless payload.
    marker = tmp_path / "marker"
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.read_text() == "pwned"
    marker.unlink()
    path = tmp_path / "evil.pt"
    torch.save(Payload(marker), path)
    torch.load(path, weights_only=False)  # the post's torch.load, before torch 2.6 made it refuse
    assert marker.read_text() == "pwned"


@pytest.mark.parametrize("name", ["layer.pt", "layer.pth", "layer.pkl", "layer.safetensors", "layer"])
@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_a_malicious_pickle_runs_nothing(tmp_path, name, writer, no_unpickling):
    marker = tmp_path / "marker"
    path = tmp_path / name
    if writer == "pickle":
        path.write_bytes(pickle.dumps(Payload(marker)))
    else:
        torch.save(Payload(marker), path)  # a zip archive with the pickle inside
    with pytest.raises(CheckpointError, match=PICKLE_MESSAGE):
        load(path)
    with pytest.raises(CheckpointError, match=PICKLE_MESSAGE):
        load(path.read_bytes())
    assert not marker.exists()


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_the_posts_torch_save_file_is_refused_with_the_pickle_message(tmp_path, legacy, no_unpickling):
    path = tmp_path / "layer.pth"
    torch.save(nn.Linear(10, 1), path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(CheckpointError) as caught:
        load(path)
    assert str(caught.value) == PICKLE_MESSAGE

