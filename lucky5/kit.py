"""The presenter kit: the whole talk in one zip, for a USB stick and a venue whose Wi-Fi fails.

For every scene of ``lucky5.scenes`` it holds the run as one offline HTML file (``export.html``), a QR
code of the scene's link (PNG, segno), the plain PyTorch script that reproduces the run
(``export.standalone_script``), the trained layer (``checkpoint.to_bytes``) and the history as CSV
(``export.history_csv``); a README.txt lists every file. Every entry has a fixed timestamp and mode, in a
fixed order, so two builds differ only where a library picks at random: the id of Plotly's chart <div> in
the HTML and the order of the checkpoint's metadata. It builds bytes and never writes a file or touches a
network.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

import segno
import torch

from . import checkpoint, export
from .engine import History, train
from .inputs import default_input
from .scenes import SCENE, SCENES, Scene, scene_query, sentences

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can store: no build time leaks into the bytes
QR_SCALE = 10  # px per module: about 4 cm across at 96 dpi for a version-3 code, enough to scan from a screen
FOLDER = "lucky5-talk"


def scene_link(base_url: str, scene: Scene) -> str:
    """The audience link of ``scene`` on the page at ``base_url`` (its query, if any, is dropped).

    Raises:
        ValueError: if ``base_url`` is not an http(s) URL with a host.
    """
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"the page's address must be an http(s) URL with a host, not {base_url[:80]!r}")
    return parts._replace(query="", fragment="").geturl() + "?" + urlencode(scene_query(scene.number, scene.config))


def slug(scene: Scene) -> str:
    """``scene-N-words-of-the-title``: ASCII letters, digits and dashes only."""
    words = re.sub(r"[^a-z0-9]+", "-", scene.title.lower()).strip("-")
    return f"scene-{scene.number}-{words}"


def qr_png(link: str) -> bytes:
    """A PNG of ``link``'s QR code (error correction M, a quiet zone of 4 modules)."""
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=QR_SCALE, border=4)
    return out.getvalue()


def files(base_url: str, histories: Mapping[int, History] | None = None, *, theme: str = "light") -> dict[str, bytes]:
    """Every file of the kit, path -> bytes, in the zip's order (README.txt first).

    ``histories`` maps a scene number to its trained run (the page passes its cached ones); a missing or
    mismatched one is trained here with ``lucky5.train`` (the 20,000-epoch scene takes about a second).

    Raises:
        ValueError: for a bad ``base_url`` or ``theme``.
    """
    given = dict(histories or {})
    out: dict[str, bytes] = {}
    listing: list[tuple[str, str]] = []
    body: dict[str, bytes] = {}
    for scene in SCENES:
        history = given.get(scene.number)
        if history is None or history.config != scene.config:
            history = train(scene.config)
        link = scene_link(base_url, scene)
        x = torch.tensor(default_input(scene.config.seed), dtype=torch.float64)
        name = slug(scene)
        entries = {
            f"{name}.html": (
                export.html(
                    history,
                    x,
                    theme=theme,
                    heading=f"Scene {scene.number} of {len(SCENES)} · {scene.title}",
                    lead=[" ".join(sentences(scene, history, x))],
                ).encode("utf-8"),
                f"Scene {scene.number}, {scene.title}: the run as one HTML file; opens offline in any browser.",
            ),
            f"{name}-qr.png": (qr_png(link), f"QR code of {link}"),
            f"{name}.py": (
                export.standalone_script(scene.config).encode("utf-8"),
                "the same run in plain PyTorch (python3 this.py; needs torch)",
            ),
            f"{name}.safetensors": (
                checkpoint.to_bytes(history.trained, scene.config),
                "the trained layer (safetensors; the page's Take it home section tests it)",
            ),
            f"{name}.csv": (export.history_csv(history).encode("utf-8"), "every epoch's loss, weights and gradients"),
        }
        for path, (data, what) in entries.items():
            body[f"{FOLDER}/{path}"] = data
            listing.append((path, what))
    out[f"{FOLDER}/README.txt"] = _readme(base_url, listing).encode("utf-8")
    out.update(body)
    return out


def _readme(base_url: str, listing: list[tuple[str, str]]) -> str:
    width = max(len(path) for path, _ in listing)
    lines = [
        "lucky5: the talk kit",
        "",
        "Six scenes, each as a link on the live page and as files that work without a network.",
        "If the venue's Wi-Fi fails, open a scene's .html file in a browser: the animation plays offline.",
        "",
        "Scenes and their links:",
    ]
    lines += [f"  {s.number}. {s.title}: {scene_link(base_url, s)}" for s in SCENES]
    lines += ["", "Files:"]
    lines += [f"  {path.ljust(width)}  {what}" for path, what in listing]
    return "\n".join(lines) + "\n"


def presenter_kit(base_url: str, histories: Mapping[int, History] | None = None, *, theme: str = "light") -> bytes:
    """The kit as zip bytes (deflated, with fixed timestamps and modes; see the module's note on equal builds).

    Raises:
        ValueError: for a bad ``base_url`` or ``theme`` (see ``files``).
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path, data in files(base_url, histories, theme=theme).items():
            info = zipfile.ZipInfo(path, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # rw-r--r--: a plain file wherever it is unpacked
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    return out.getvalue()


__all__ = ["FOLDER", "SCENE", "files", "presenter_kit", "qr_png", "scene_link", "slug"]
