"""Save and load a trained layer, safely: a safetensors file with its Config as metadata.

The blog post saved its model with ``torch.save(model)`` and read it back with
``torch.load``: a pickle, which runs code when it is loaded (and which torch >= 2.6
refuses by default). A lucky5 checkpoint is a safetensors file instead: a JSON header
and raw float32 numbers, nothing that can run. It holds exactly two tensors, ``weight``
(1, 10) and ``bias`` (1,), and the metadata ``{"format": "lucky5", "version": "1",
"config": <JSON of to_query(config)>}``.

``load`` checks everything before trusting anything and raises one exception,
``CheckpointError``, with a message meant for a person. It never calls ``torch.load``
or ``pickle``. This module does not train, draw or import a UI.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from .config import Config, from_query, to_query
from .engine import IN_FEATURES, History

FORMAT = "lucky5"
VERSION = "1"
# A lucky5 checkpoint is a few hundred bytes; the limit keeps a hostile upload from filling memory.
MAX_BYTES = 1_000_000
# name -> shape; both float32 ("F32" in a safetensors header).
SHAPES: dict[str, tuple[int, ...]] = {"weight": (1, IN_FEATURES), "bias": (1,)}
DTYPE = "F32"

PICKLE_MESSAGE = (
    "this looks like a torch.save pickle; lucky5 only loads safetensors files, because loading a pickle can run code"
)


class CheckpointError(ValueError):
    """A file that is not a valid lucky5 checkpoint; the message says why, for a person."""


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: the layer's numbers, the run's Config, and notices about the Config."""

    weight: torch.Tensor  # (1, 10) float32
    bias: torch.Tensor  # (1,) float32
    config: Config
    notices: tuple[str, ...] = ()  # settings in the metadata that were ignored, and why

    def layer(self) -> nn.Linear:
        """The checkpoint as a fresh ``nn.Linear(10, 1)`` (never shared, like ``History.layer``)."""
        layer = torch.nn.utils.skip_init(nn.Linear, IN_FEATURES, 1)
        with torch.no_grad():
            layer.weight.copy_(self.weight)
            layer.bias.copy_(self.bias)
        return layer


# --- saving -------------------------------------------------------------------------------


def to_bytes(model: nn.Linear | History | Checkpoint, config: Config | None = None) -> bytes:
    """The checkpoint file's bytes for a trained layer (a History or a Checkpoint brings its own Config)."""
    weight, bias, own_config = _parameters(model)
    config = config if config is not None else own_config
    if config is None:
        raise TypeError("to_bytes(layer, config): a bare nn.Linear needs the Config it was trained with")
    if not (torch.isfinite(weight).all() and torch.isfinite(bias).all()):
        raise ValueError("cannot save a layer with non-finite weights (load would refuse it)")
    metadata = {"format": FORMAT, "version": VERSION, "config": json.dumps(to_query(config), sort_keys=True)}
    return st_save({"weight": weight, "bias": bias}, metadata=metadata)


def save(path: str | Path, model: nn.Linear | History | Checkpoint, config: Config | None = None) -> Path:
    """Write the checkpoint to ``path`` and return it as a Path."""
    path = Path(path)
    path.write_bytes(to_bytes(model, config))
    return path


def _parameters(model: nn.Linear | History | Checkpoint) -> tuple[torch.Tensor, torch.Tensor, Config | None]:
    """(weight (1, 10), bias (1,), config or None) as fresh contiguous float32 CPU tensors."""
    if isinstance(model, History):
        weight, bias, config = model.final_weight, model.biases[-1:], model.config
    elif isinstance(model, Checkpoint):
        weight, bias, config = model.weight, model.bias, model.config
    elif isinstance(model, nn.Linear):
        weight, bias, config = model.weight, model.bias, None
    else:
        raise TypeError(f"expected an nn.Linear, History or Checkpoint, not {type(model).__name__}")
    if bias is None or weight.numel() != IN_FEATURES or bias.numel() != 1:
        raise ValueError("a lucky5 checkpoint holds an nn.Linear(10, 1) with a bias")
    # clone: safetensors wants compact tensors that own their memory (History's rows are views)
    weight = weight.detach().to("cpu", torch.float32).reshape(SHAPES["weight"]).clone()
    bias = bias.detach().to("cpu", torch.float32).reshape(SHAPES["bias"]).clone()
    return weight, bias, config


# --- loading ------------------------------------------------------------------------------


def load(source: str | Path | bytes) -> Checkpoint:
    """A Checkpoint from a file path or from the file's bytes (an upload); raises CheckpointError."""
    data = _read(source)
    header = _header(data)
    metadata = header.pop("__metadata__", None)
    _check_is_lucky5(metadata, header)
    _check_tensor_specs(header)
    tensors = _tensors(data)
    config, notices = _config(metadata)
    return Checkpoint(weight=tensors["weight"], bias=tensors["bias"], config=config, notices=tuple(notices))


def _read(source: str | Path | bytes) -> bytes:
    """The file's bytes, refusing anything over MAX_BYTES before reading it all."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        _check_size(len(source))
        data = bytes(source)
    else:
        data = _read_path(Path(source))
    if not data:
        raise CheckpointError("the file is empty")
    return data


def _read_path(path: Path) -> bytes:
    if not path.is_file():
        raise CheckpointError(f"{str(path)!r} is not a file" if path.exists() else f"there is no file {str(path)!r}")
    try:
        _check_size(path.stat().st_size)
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)  # one byte past the limit: the file may have grown since stat
    except OSError as err:
        raise CheckpointError(f"cannot read {str(path)!r}: {err.strerror or err}") from None
    _check_size(len(data))
    return data


def _check_size(size: int) -> None:
    if size > MAX_BYTES:
        raise CheckpointError(f"the file is {size:,} bytes, over the 1 MB limit (a lucky5 checkpoint is under 1 kB)")


def _header(data: bytes) -> dict:
    """The safetensors header (a JSON object), or a CheckpointError saying what the bytes are instead.

    A safetensors file is: 8 bytes of little-endian header length n, n bytes of JSON, the data.
    """
    n = struct.unpack("<Q", data[:8])[0] if len(data) >= 8 else None
    # (a file cut right after the length has no "{" yet, but is a truncated checkpoint all the same)
    looks_safetensors = n is not None and 2 <= n <= MAX_BYTES and data[8:9] in (b"{", b"")
    # Sniff a pickle only when the start is not a plausible header: the first byte of a real
    # header length can be 0x80 (n = 128, 384, ...).
    if not looks_safetensors:
        if data.startswith(b"PK\x03\x04") or (data[:1] == b"\x80" and data[1:2] in b"\x02\x03\x04\x05"):
            raise CheckpointError(PICKLE_MESSAGE)
        if len(data) < 8:
            raise CheckpointError(f"the file is only {len(data)} bytes: too short to be a lucky5 checkpoint")
        raise CheckpointError("this is not a lucky5 checkpoint: it is not a safetensors file")
    if len(data) < 8 + n:
        raise CheckpointError(
            f"the file is truncated: its header announces {n:,} bytes of header but only {len(data) - 8:,} follow"
        )
    try:
        header = json.loads(data[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # RecursionError: "[[[[..." nested deep
        raise CheckpointError("the file is damaged: its safetensors header is not valid JSON") from None
    if not isinstance(header, dict) or not all(isinstance(v, dict) for v in header.values()):
        raise CheckpointError("the file is damaged: its safetensors header is not a table of tensors")
    ends = [_end(spec) for name, spec in header.items() if name != "__metadata__"]
    if max(ends, default=0) > len(data) - 8 - n:
        raise CheckpointError(
            f"the file is truncated: its tensors need {max(ends):,} bytes of data but only {len(data) - 8 - n:,} follow"
        )
    return header


def _end(spec: dict) -> int:
    """Where one tensor's bytes end, from its ``data_offsets``."""
    offsets = spec.get("data_offsets")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
        raise CheckpointError("the file is damaged: a tensor in its header has no valid data_offsets")
    return offsets[1]


def _check_is_lucky5(metadata: object, header: dict) -> None:
    """Refuse safetensors files written by other tools, or by a newer lucky5."""
    metadata = metadata if isinstance(metadata, dict) else {}
    if metadata.get("format") != FORMAT:
        names = ", ".join(name[:40] for name in sorted(header)[:5]) or "none"
        raise CheckpointError(
            "this is a safetensors file, but not a lucky5 checkpoint (its metadata has no format 'lucky5'); "
            f"its tensors: {names}"
        )
    if metadata.get("version") != VERSION:
        version = str(metadata.get("version"))[:20]
        raise CheckpointError(f"this lucky5 checkpoint has version {version!r}; this lucky5 reads version {VERSION}")


def _check_tensor_specs(header: dict) -> None:
    """Exactly weight (1, 10) and bias (1,), both float32: checked in the header, before any data is read."""
    missing, extra = sorted(set(SHAPES) - set(header)), sorted(set(header) - set(SHAPES))
    expected = "a lucky5 checkpoint holds exactly weight (1, 10) and bias (1,)"
    if missing:
        raise CheckpointError(f"missing tensor {', '.join(missing)}: {expected}")
    if extra:
        raise CheckpointError(f"unexpected tensor {', '.join(repr(e[:40]) for e in extra[:5])}: {expected}")
    for name, shape in SHAPES.items():
        spec = header[name]
        if spec.get("dtype") != DTYPE:
            raise CheckpointError(f"tensor {name} has dtype {str(spec.get('dtype'))[:20]}; lucky5 stores float32 (F32)")
        if spec.get("shape") != list(shape):
            got = spec.get("shape")
            raise CheckpointError(f"tensor {name} has shape {str(got)[:40]}; it must be {list(shape)}")


def _tensors(data: bytes) -> dict[str, torch.Tensor]:
    """The tensors, parsed by safetensors itself (which checks offsets and coverage), all finite."""
    try:
        tensors = st_load(data)
    except SafetensorError as err:
        raise CheckpointError(f"the file is damaged: {err}") from None
    for name, tensor in tensors.items():
        if not torch.isfinite(tensor).all():
            raise CheckpointError(f"tensor {name} holds non-finite values (inf or nan); a trained layer has none")
    return tensors


def _config(metadata: dict) -> tuple[Config, list[str]]:
    """The run's Config, restored tolerantly: a bad setting becomes a notice and keeps its default."""
    raw = metadata.get("config")
    try:
        params = json.loads(raw) if isinstance(raw, str) else None
    except (json.JSONDecodeError, RecursionError):
        params = None
    if not isinstance(params, dict):
        return Config(), ["The checkpoint's config metadata is missing or unreadable; showing the default settings."]
    return from_query(params)
