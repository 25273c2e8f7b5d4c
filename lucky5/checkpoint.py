"""Save and load a trained layer, safely: a safetensors file with its Config as metadata.

The blog post saved its model with ``torch.save(model)`` and read it back with
``torch.load``: a pickle, which runs code when it is loaded (and which torch >= 2.6
refuses by default). A lucky5 checkpoint is a safetensors file instead: a JSON header
and raw float32 numbers, nothing that can run. It holds exactly two tensors, ``weight``
(1, 10) and ``bias`` (1,), and the metadata ``{"format": "lucky5", "version": "1",
"config": <JSON of to_query(config)>}``. A run on a data set (``lucky5.data``) adds ``"data"``, the data's
digest (64 hex digits), and ``"columns"``, a JSON list of its column names, features first, then the target:
the file records which data the layer learned, never the data itself.

``load`` checks everything before trusting anything and raises one exception,
``CheckpointError``, with a message meant for a person. It never calls ``torch.load``
or ``pickle``. This module does not train, draw or import a UI.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from .config import Config, from_query, to_query
from .data import MAX_FEATURES, is_digest
from .engine import IN_FEATURES, History
from .layer import Layer

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
    data: str = ""  # the digest of the data set the layer was trained on ("" for none)
    columns: tuple[str, ...] = ()  # that data's column names, features first, then the target

    @property
    def trained(self) -> Layer:
        """The layer the file holds, as a ``Layer`` (a copy: never shares the checkpoint's tensors)."""
        return Layer.from_tensors(self.weight, self.bias)

    def fingerprint(self) -> str:
        """The run fingerprint of the layer and its data (``Layer.fingerprint``), as the run showed it."""
        return self.trained.fingerprint(self.data)


# --- saving -------------------------------------------------------------------------------


def to_bytes(model: Layer | History | Checkpoint | nn.Linear, config: Config | None = None) -> bytes:
    """The checkpoint file's bytes for a trained layer (a History or a Checkpoint brings its own Config).

    Raises:
        TypeError: ``model`` is none of these, or ``config`` is missing for a bare Layer or nn.Linear.
        ValueError: the layer is not ten weights and a bias, or not finite (``load`` would refuse it).
    """
    layer, own_config = _parameters(model)
    config = config if config is not None else own_config
    if config is None:
        raise TypeError("to_bytes(layer, config): a bare Layer or nn.Linear needs the Config it was trained with")
    weight = layer.weight.to(torch.float32).reshape(SHAPES["weight"]).clone()  # owns its memory, as safetensors wants
    bias = torch.tensor([layer.bias], dtype=torch.float32)
    if not (torch.isfinite(weight).all() and torch.isfinite(bias).all()):
        raise ValueError("cannot save a layer with non-finite weights (load would refuse it)")
    metadata = {"format": FORMAT, "version": VERSION, "config": json.dumps(to_query(config), sort_keys=True)}
    metadata.update(_data_metadata(model))
    return st_save({"weight": weight, "bias": bias}, metadata=metadata)


def _data_metadata(model: object) -> dict[str, str]:
    """The data's digest and column names, for a run on a data set (a History or Checkpoint that has them)."""
    if isinstance(model, History) and model.data is not None:
        names = [*model.data.feature_names, model.data.target_name]
        return {"data": model.data.digest, "columns": json.dumps(names)}
    if isinstance(model, Checkpoint) and model.data:
        return {"data": model.data, "columns": json.dumps(list(model.columns))}
    return {}


def save(path: str | Path, model: Layer | History | Checkpoint | nn.Linear, config: Config | None = None) -> Path:
    """Write the checkpoint to ``path`` and return it as a Path."""
    path = Path(path)
    path.write_bytes(to_bytes(model, config))
    return path


def _parameters(model: Layer | History | Checkpoint | nn.Linear) -> tuple[Layer, Config | None]:
    """The layer to save (float32 copies: safetensors wants tensors that own their memory) and its Config."""
    if isinstance(model, Layer):
        return model, None
    if isinstance(model, History | Checkpoint):
        return model.trained, model.config
    if isinstance(model, nn.Linear):
        if model.bias is None or model.weight.numel() != IN_FEATURES or model.bias.numel() != 1:
            raise ValueError("a lucky5 checkpoint holds an nn.Linear(10, 1) with a bias")
        return Layer.from_tensors(model.weight, model.bias), None
    raise TypeError(f"expected a Layer, History, Checkpoint or nn.Linear, not {type(model).__name__}")


# --- loading ------------------------------------------------------------------------------
#
# ``load`` is total: whatever the bytes, it returns a Checkpoint or raises CheckpointError. Every
# parse of the file's bytes below either accepts or raises CheckpointError itself; the only foreign
# exceptions turned into one are those that name a property of the input (OSError while reading,
# the strict JSON parser's refusals, SafetensorError). Anything else is a bug and is not hidden.

# A lucky5 header nests three levels ({name: {"shape": [...]}}), its config one; deeper is hostile.
# Checked before parsing, so that no recursion limit decides (and so that the verdict does not depend
# on how deep the caller's stack already is).
MAX_JSON_DEPTH = 8
# Offsets and sizes in a safetensors header are 64-bit integers: at most 20 digits. A longer number is
# refused before Python converts it (CPython refuses over 4,300 digits with a bare ValueError).
MAX_NUMBER_CHARS = 40
# A Config has 16 settings; more notices than this about them come from a hostile file.
MAX_NOTICES = 10


class _Unreadable(Exception):
    """Why a JSON text was refused: raised by ``_json`` and its hooks, turned into a message by callers."""


def load(source: str | Path | bytes | bytearray | memoryview) -> Checkpoint:
    """A Checkpoint from a file path or from the file's bytes (an upload).

    Total over its input: any sequence of bytes either loads as a valid lucky5 checkpoint, or
    raises ``CheckpointError`` whose message is one printable line saying why (text quoted from the
    file is escaped). Settings in the metadata that are not valid become ``notices`` and keep their
    defaults. Nothing in the file is executed: no pickle, no ``torch.load``.

    Raises:
        CheckpointError: the file is missing, unreadable, over ``MAX_BYTES``, or not a valid checkpoint.
    """
    data = _read(source)
    header = _header(data)
    metadata = header.pop("__metadata__", {})
    _check_is_lucky5(metadata, header)
    _check_tensor_specs(header)
    _check_layout(header, len(data) - 8 - _header_length(data))
    tensors = _tensors(data)
    config, notices = _config(metadata)
    digest, columns, more = _data(metadata)
    return Checkpoint(
        weight=tensors["weight"],
        bias=tensors["bias"],
        config=config,
        notices=tuple(notices + more),
        data=digest,
        columns=columns,
    )


def _shown(value: object, limit: int = 40) -> str:
    """A value taken from the file, as a message may quote it: its repr (control characters, line breaks and
    lone surrogates escaped, so the message stays one printable line), cut to about ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _printable(text: str, limit: int = 200) -> str:
    """Someone else's message (it may quote the file): non-printable characters escaped, cut to ``limit``."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _read(source: str | Path | bytes | bytearray | memoryview) -> bytes:
    """The file's bytes, refusing anything over MAX_BYTES before reading it all."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        _check_size(source.nbytes if isinstance(source, memoryview) else len(source))
        data = bytes(source)
    else:
        data = _read_path(Path(source))
    if not data:
        raise CheckpointError("the file is empty")
    return data


def _read_path(path: Path) -> bytes:
    try:
        # inside the try: is_file() raises for some paths (a name too long, a folder that cannot be searched)
        if not path.is_file():
            shown = _shown(str(path), 200)
            raise CheckpointError(f"{shown} is not a file" if path.exists() else f"there is no file {shown}")
        _check_size(path.stat().st_size)
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)  # one byte past the limit: the file may have grown since stat
    except OSError as err:
        raise CheckpointError(f"cannot read {_shown(str(path), 200)}: {_printable(err.strerror or str(err))}") from None
    _check_size(len(data))
    return data


def _check_size(size: int) -> None:
    if size > MAX_BYTES:
        raise CheckpointError(f"the file is {size:,} bytes, over the 1 MB limit (a lucky5 checkpoint is under 1 kB)")


def _header_length(data: bytes) -> int:
    """The header length n from the first 8 bytes (little-endian u64); the caller has checked there are 8."""
    return int(struct.unpack("<Q", data[:8])[0])


def _header(data: bytes) -> dict[str, Any]:
    """The safetensors header (a JSON object of tensor specs), or a CheckpointError saying what the bytes are.

    A safetensors file is: 8 bytes of little-endian header length n, n bytes of JSON, the data.
    """
    n = _header_length(data) if len(data) >= 8 else None
    # (a file cut right after the length has no "{" yet, but is a truncated checkpoint all the same)
    looks_safetensors = n is not None and 2 <= n <= MAX_BYTES and data[8:9] in (b"{", b"")
    # Sniff a pickle only when the start is not a plausible header: the first byte of a real
    # header length can be 0x80 (n = 128, 384, ...).
    if n is None or not looks_safetensors:
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
        header = _json(data[8 : 8 + n])
    except _Unreadable as why:
        raise CheckpointError(f"the file is damaged: its safetensors header is not valid JSON ({why})") from None
    if not isinstance(header, dict) or not all(isinstance(v, dict) for v in header.values()):
        raise CheckpointError("the file is damaged: its safetensors header is not a table of tensors")
    for key, value in header.get("__metadata__", {}).items():
        if not isinstance(value, str):  # safetensors metadata maps text to text
            kind = type(value).__name__
            raise CheckpointError(
                f"the file is damaged: its metadata {_shown(key)} holds {kind} {_shown(value)}, not text"
            )
    ends = [_end(name, spec) for name, spec in header.items() if name != "__metadata__"]
    if max(ends, default=0) > len(data) - 8 - n:
        raise CheckpointError(
            f"the file is truncated: its tensors need {max(ends):,} bytes of data but only {len(data) - 8 - n:,} follow"
        )
    return header


def _end(name: str, spec: dict[str, Any]) -> int:
    """Where one tensor's bytes end, from its ``data_offsets`` [begin, end] (whole numbers, 0 <= begin <= end)."""
    offsets = spec.get("data_offsets")
    if not (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(type(o) is int for o in offsets)  # not bool, not float
        and 0 <= offsets[0] <= offsets[1]
    ):
        raise CheckpointError(
            f"the file is damaged: tensor {_shown(name)} has data_offsets {_shown(offsets)}, not [begin, end]"
        )
    return int(offsets[1])


def _json(text: bytes | str) -> Any:
    """Parse strict JSON, or raise ``_Unreadable`` saying why; total over its input.

    Stricter than ``json.loads``: UTF-8 only (no UTF-16/32 guessing, no encoded surrogates), nesting at
    most MAX_JSON_DEPTH, numbers of at most MAX_NUMBER_CHARS characters and finite, no NaN or Infinity
    (not JSON, and the Rust parser safetensors uses refuses them), no key given twice in one object (which
    copy would count?), no lone surrogates in keys or texts (``"\\ud800"``).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            raise _Unreadable(f"it is not UTF-8 text (byte {err.start:,} of it is 0x{text[err.start]:02x})") from None
    depth = _depth(text)
    if depth > MAX_JSON_DEPTH:
        raise _Unreadable(f"it nests {depth:,} levels deep; at most {MAX_JSON_DEPTH} are allowed")
    try:
        return json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
            object_pairs_hook=_object,
        )
    except json.JSONDecodeError as err:
        raise _Unreadable(f"{err.msg} at character {err.pos:,}") from None


# A JSON string, its escapes included; what is left after removing them holds the brackets that nest.
# The closing quote is optional so that a match, once started, never fails: an unterminated string then
# costs one pass, where a failing match would be retried from every later quote (quadratic time).
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NESTING = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def _depth(text: str) -> int:
    """How deep brackets nest in a JSON text, outside its strings (without recursion, in linear time)."""
    brackets = re.sub(r"[^\[\]{}]+", "", _JSON_STRING.sub("", text))
    return max(itertools.accumulate(_NESTING[ord(c)] for c in brackets), default=0)


def _number_text(text: str) -> str:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Unreadable(f"it holds a number written with {len(text):,} characters")
    return text


def _parse_int(text: str) -> int:
    return int(_number_text(text))


def _parse_float(text: str) -> float:
    value = float(_number_text(text))
    if not math.isfinite(value):  # "1e999"
        raise _Unreadable(f"it holds the number {text}, too large for a float")
    return value


def _parse_constant(name: str) -> float:
    raise _Unreadable(f"it holds {name}, which is not JSON")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        for text in (key, value) if isinstance(value, str) else (key,):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise _Unreadable(f"it holds a lone surrogate (\\u escape) in {_shown(text)}") from None
        if key in out:
            raise _Unreadable(f"it gives the key {_shown(key)} twice")
        out[key] = value
    return out


def _check_is_lucky5(metadata: dict[str, str], header: dict[str, Any]) -> None:
    """Refuse safetensors files written by other tools, or by a newer lucky5."""
    if metadata.get("format") != FORMAT:
        names = ", ".join(_shown(name) for name in sorted(header)[:5]) or "none"
        raise CheckpointError(
            "this is a safetensors file, but not a lucky5 checkpoint (its metadata has no format 'lucky5'); "
            f"its tensors: {names}"
        )
    if metadata.get("version") != VERSION:
        raise CheckpointError(
            f"this lucky5 checkpoint has version {_shown(metadata.get('version'), 20)}; "
            f"this lucky5 reads version {VERSION}"
        )


def _check_tensor_specs(header: dict[str, Any]) -> None:
    """Exactly weight (1, 10) and bias (1,), both float32: checked in the header, before any data is read."""
    missing, extra = sorted(set(SHAPES) - set(header)), sorted(set(header) - set(SHAPES))
    expected = "a lucky5 checkpoint holds exactly weight (1, 10) and bias (1,)"
    if missing:
        raise CheckpointError(f"missing tensor {', '.join(missing)}: {expected}")
    if extra:
        raise CheckpointError(f"unexpected tensor {', '.join(_shown(e) for e in extra[:5])}: {expected}")
    for name, shape in SHAPES.items():
        spec = header[name]
        dtype = spec.get("dtype")
        if dtype != DTYPE:
            shown = dtype if isinstance(dtype, str) and dtype.isalnum() and len(dtype) <= 20 else _shown(dtype, 20)
            raise CheckpointError(f"tensor {name} has dtype {shown}; lucky5 stores float32 (F32)")
        got = spec.get("shape")
        # type(d) is int: JSON's 10.0 and true compare equal to 10 and 1 in Python, but are not sizes
        is_shape = isinstance(got, list) and all(type(d) is int for d in got) and tuple(got) == shape
        if not is_shape:
            raise CheckpointError(f"tensor {name} has shape {_shown(got)}; it must be {list(shape)}")


def _check_layout(header: dict[str, Any], data_bytes: int) -> None:
    """The two tensors' bytes tile the data exactly: no gap, no overlap, nothing after (safetensors' own rule)."""
    spans = sorted((header[name]["data_offsets"], name) for name in SHAPES)
    position = 0
    for (begin, end), name in spans:
        size = 4 * math.prod(SHAPES[name])
        if begin != position or end - begin != size:
            raise CheckpointError(
                f"the file is damaged: tensor {name} has data_offsets [{begin:,}, {end:,}]; "
                f"its {size} bytes must start at {position}"
            )
        position = end
    if position != data_bytes:
        raise CheckpointError(
            f"the file is damaged: {data_bytes - position:,} bytes follow the tensors' data (a lucky5 file has none)"
        )


def _tensors(data: bytes) -> dict[str, torch.Tensor]:
    """The tensors, parsed by safetensors itself (a second opinion on what was checked above), all finite."""
    try:
        tensors = st_load(data)
    except SafetensorError as err:
        raise CheckpointError(f"the file is damaged: {_printable(str(err))}") from None
    for name, tensor in tensors.items():
        if not torch.isfinite(tensor).all():
            raise CheckpointError(f"tensor {name} holds non-finite values (inf or nan); a trained layer has none")
    return tensors


def _config(metadata: dict[str, str]) -> tuple[Config, list[str]]:
    """The run's Config, restored tolerantly: a bad setting becomes a notice and keeps its default."""
    raw = metadata.get("config")
    why = "it is missing"
    params: Any = None
    if raw is not None:
        try:
            params = _json(raw)
            why = "it is not a table of settings"
        except _Unreadable as err:
            why = f"it is not valid JSON: {err}"
    if not isinstance(params, dict):
        return Config(), [
            f"The checkpoint's config metadata is missing or unreadable ({why}); showing the default settings."
        ]
    config, notices = from_query(params)
    if len(notices) > MAX_NOTICES:  # a hostile config can name 100,000 settings: say so once, not 100,000 times
        more = len(notices) - (MAX_NOTICES - 1)
        notices = notices[: MAX_NOTICES - 1] + [f"... and {more:,} more problems with the config metadata."]
    return config, notices


_MAX_COLUMN_NAME = 40  # characters, as lucky5.data reads a header


def _data(metadata: dict[str, str]) -> tuple[str, tuple[str, ...], list[str]]:
    """The data's digest and column names, tolerantly: what is not valid becomes a notice and is dropped."""
    digest = metadata.get("data", "")
    if not digest:
        return "", (), []
    if not is_digest(digest):
        return "", (), [f"Ignored the checkpoint's data digest {_shown(digest)}: not 64 hexadecimal digits."]
    try:
        names = _json(metadata.get("columns", ""))
    except _Unreadable:
        names = None
    good = (
        isinstance(names, list)
        and 2 <= len(names) <= MAX_FEATURES + 1
        and all(isinstance(n, str) and 0 < len(n) <= _MAX_COLUMN_NAME and n.isprintable() for n in names)
    )
    if not good:
        return digest, (), ["Ignored the checkpoint's column names: not a list of 2 to 11 short names."]
    return digest, tuple(names), []
