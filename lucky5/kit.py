"""The presenter kit: the whole talk in one zip, for a USB stick and a venue whose Wi-Fi fails.

It holds ``talk.html``, every scene in one file that plays offline with a clicker's keys (``lucky5.talk``), and
for every scene of ``lucky5.scenes`` a QR code of the scene's link (PNG, segno), the plain PyTorch script that
reproduces the run (``export.standalone_script``), the trained layer (``checkpoint.to_bytes``) and the history as
CSV (``export.history_csv``); a README.txt lists every file and gives talk.html's size. Every entry has a fixed
timestamp and mode, in a fixed order, so two builds differ only where a library picks at random: the order of
the checkpoint's metadata. It builds bytes and never writes a file or touches a network.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

import segno

from . import checkpoint, export
from .engine import History, train
from .scenes import SCENE, SCENES, Scene, scene_query
from .talk import talk_html

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can store: no build time leaks into the bytes
QR_SCALE = 10  # px per module: about 4 cm across at 96 dpi for a version-3 code, enough to scan from a screen
FOLDER = "lucky5-talk"
TALK = "talk.html"


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


def runs_for(histories: Mapping[int, History] | None = None) -> dict[int, History]:
    """Every scene's run: ``histories``'s where it holds the scene's own (the page passes its cached ones), the
    others trained here with ``lucky5.train``, each distinct setting once."""
    given = dict(histories or {})
    trained: dict = {}
    out = {}
    for scene in SCENES:
        history = given.get(scene.number)
        if history is None or history.config != scene.config:
            history = trained.get(scene.config) or train(scene.config)
        trained[scene.config] = history
        out[scene.number] = history
    return out


def files(
    base_url: str,
    histories: Mapping[int, History] | None = None,
    *,
    theme: str = "light",
    unreachable: str | None = None,
) -> dict[str, bytes]:
    """Every file of the kit, path -> bytes, in the zip's order (README.txt first, then talk.html).

    ``histories`` maps a scene number to its trained run; a missing or mismatched one is trained (``runs_for``).
    ``unreachable`` (plain text) is why phones cannot open links on ``base_url``, if they cannot: ``talk_html``
    says it where the talk would ask the room to scan.

    Raises:
        ValueError: for a bad ``base_url`` or ``theme``.
    """
    links = {s.number: scene_link(base_url, s) for s in SCENES}
    runs = runs_for(histories)
    talk = talk_html(runs, theme=theme, links=links, unreachable=unreachable).encode("utf-8")
    listing = [(TALK, f"the whole talk offline: every scene, PageDown/PageUp to move ({_size(len(talk))})")]
    body = {f"{FOLDER}/{TALK}": talk}
    for scene in SCENES:
        history = runs[scene.number]
        name = slug(scene)
        entries = {
            f"{name}-qr.png": (qr_png(links[scene.number]), f"QR code of {links[scene.number]}"),
            f"{name}.py": (
                export.standalone_script(scene.config).encode("utf-8"),
                "the same run in plain PyTorch (python3 this.py; needs torch)",
            ),
            f"{name}.safetensors": (
                checkpoint.to_bytes(history.trained, scene.config),
                "the trained layer (safetensors; the page's Take it home section tests it)",
            ),
            f"{name}.csv": (
                export.history_csv(history).encode("utf-8"),
                "row k: the layer before epoch k, that epoch's loss and gradient; the last row is the trained layer",
            ),
        }
        for path, (data, what) in entries.items():
            body[f"{FOLDER}/{path}"] = data
            listing.append((path, what))
    return {f"{FOLDER}/README.txt": _readme(links, listing).encode("utf-8"), **body}


def _size(n: int) -> str:
    return f"{n:,} bytes, {n / 1e6:.1f} MB"


def _readme(links: Mapping[int, str], listing: list[tuple[str, str]]) -> str:
    width = max(len(path) for path, _ in listing)
    lines = [
        "lucky5: the talk kit",
        "",
        f"{len(SCENES)} scenes, each as a link on the live page and as files that work without a network.",
        f"If the venue's Wi-Fi fails, open {TALK} in a browser: every scene is in it and plays offline.",
        "PageDown and PageUp (a presentation clicker) move between scenes, Space plays and pauses, the arrow keys",
        f"step. On your own screen, open {TALK} a second time in the same browser and add #notes=1 to its address:",
        "your notes, a timer and the next scene's title. Each of the two windows follows the other's scene.",
        "",
        "Scenes and their links:",
    ]
    lines += [f"  {s.number}. {s.title}: {links[s.number]}" for s in SCENES]
    lines += ["", "Files:"]
    lines += [f"  {path.ljust(width)}  {what}" for path, what in listing]
    return "\n".join(lines) + "\n"


def archive(entries: Mapping[str, bytes]) -> bytes:
    """``entries`` (path -> bytes, e.g. ``files``'s) as zip bytes, deflated, with fixed timestamps and modes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for path, data in entries.items():
            info = zipfile.ZipInfo(path, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # rw-r--r--: a plain file wherever it is unpacked
            z.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    return out.getvalue()


def presenter_kit(base_url: str, histories: Mapping[int, History] | None = None, *, theme: str = "light") -> bytes:
    """The kit as zip bytes: ``archive(files(base_url, histories, theme=theme))``.

    Raises:
        ValueError: for a bad ``base_url`` or ``theme`` (see ``files``).
    """
    return archive(files(base_url, histories, theme=theme))


__all__ = ["FOLDER", "SCENE", "TALK", "archive", "files", "presenter_kit", "qr_png", "runs_for", "scene_link", "slug"]
