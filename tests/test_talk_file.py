"""The whole talk as one offline file (``lucky5.talk``): every scene in it with its own figure from
``lucky5.figures`` (read back from the file's data and compared), each repeated array stored once, Plotly once,
nothing fetched from elsewhere, scene 3's numbers equal to ``explain_step``'s and to the post's plain loop's, and
the speaker's notes in the file but not on the projector's screen."""

from __future__ import annotations

import html
import json
import math
import re

import plotly.offline
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lucky5 import explain_step, figures, train
from lucky5.notes import notes_for
from lucky5.scenes import SCENE, SCENES, sentences
from lucky5.talk import DATA_ID, MAX_TALK_BYTES, asset, resolve, scene_figure, share, talk_html
from lucky5.talk.pool import MIN_CHARS, REF
from tests.helpers import board_numbers
from tests.oracle import post_loop

LINK = "https://lucky5.example.app/?scene=1"


@pytest.fixture(scope="module")
def runs() -> dict:
    trained: dict = {}
    return {s.number: trained.setdefault(s.config, train(s.config)) for s in SCENES}


@pytest.fixture(scope="module")
def document(runs) -> str:
    return talk_html(runs, theme="dark", links={1: LINK})


def data_of(document: str) -> dict:
    raw = re.search(rf'<script type="application/json" id="{DATA_ID}">(.*?)</script>', document, re.S)
    assert raw, "the data block is missing"
    return json.loads(raw.group(1))


def section(document: str, number: int) -> str:
    found = re.search(rf'<section class="scene" data-scene="{number}".*?</section>', document, re.S)
    assert found, f"scene {number} is missing"
    return found.group(0)


# --- the pool of repeated arrays -------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from([0.5, 1.25, -3.0]) | st.text("ab", max_size=3),
    lambda inner: st.lists(inner, max_size=12) | st.dictionaries(st.sampled_from("xyzw"), inner, max_size=3),
    max_leaves=60,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values, max_size=4), st.lists(st.lists(st.integers(0, 9), min_size=8, max_size=12), max_size=3))
def test_share_then_resolve_gives_back_the_documents(documents, repeated):
    documents = [*documents, *({"x": r} for r in repeated), *({"y": [r]} for r in repeated)]
    pool, shared = share(documents)
    assert [resolve(d, pool) for d in shared] == documents
    assert len({json.dumps(p) for p in pool}) == len(pool), "an array stored twice in the pool"
    for entry in pool:  # only what repeats and is worth a reference goes to the pool
        assert len(json.dumps(entry, separators=(",", ":"))) >= MIN_CHARS


def test_a_reference_shaped_dict_in_a_document_is_refused():
    with pytest.raises(ValueError, match="reference"):
        share([{"data": [{REF: 3}]}])


# --- the file ---------------------------------------------------------------------------------------------------------


def test_each_scene_shows_the_figure_lucky5_figures_draws_for_it_in_either_colour_scheme(document, runs):
    data = data_of(document)
    assert data["theme"] == "dark" and set(data["figures"]) == set(data["layout"]) == {"light", "dark"}
    for theme in ("light", "dark"):
        for scene in SCENES:
            expected = scene_figure(scene, runs[scene.number], theme)
            stored = data["figures"][theme].get(str(scene.number))
            assert (stored is None) == (expected is None), f"scene {scene.number}"
            if expected is not None:
                assert resolve(stored, data["pool"]) == expected, f"scene {scene.number}'s {theme} figure differs"
                assert bool(expected.get("frames")) == scene.animated, f"scene {scene.number}: animated or still?"
    # The page's colours follow the viewer's scheme: the file's own theme first, the other under its media query.
    light, dark = (figures.palette(t).background for t in ("light", "dark"))
    assert document.index(f"--bg: {dark}") < document.index("@media (prefers-color-scheme: light)")
    assert document.index("@media (prefers-color-scheme: light)") < document.index(f"--bg: {light}")


def leaves(value, out: list) -> list:
    if isinstance(value, list) and value and not any(isinstance(v, list | dict) for v in value):
        out.append(json.dumps(value, separators=(",", ":"), ensure_ascii=False))
    elif isinstance(value, list):
        for v in value:
            leaves(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            leaves(v, out)
    return out


def test_every_array_of_the_scenes_that_share_a_run_is_stored_once(document, runs):
    data = data_of(document)
    block = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    every = [
        a for t in ("light", "dark") for s in SCENES if (f := scene_figure(s, runs[s.number], t)) for a in leaves(f, [])
    ]
    repeated = {a for a in every if every.count(a) > 1 and len(a) >= MIN_CHARS}
    assert repeated, "scenes of one run, and figures of one kind, repeat arrays (axes, ticks, a run's bars)"
    for array in repeated:
        assert block.count(array) == 1, f"an array is stored {block.count(array)} times: {array[:60]}"
    alone = [scene_figure(s, runs[s.number], "dark") for s in SCENES]
    separately = sum(len(json.dumps(f, separators=(",", ":"), ensure_ascii=False).encode()) for f in alone if f)
    print(f"data block {len(block.encode()):,} bytes; every scene's figure on its own: {separately:,} bytes")


def test_one_file_at_most_the_limit_with_plotly_once_and_nothing_fetched(document):
    size = len(document.encode("utf-8"))
    print(f"talk.html: {size:,} bytes")
    assert size <= MAX_TALK_BYTES
    bundle = plotly.offline.get_plotlyjs()
    assert document.count(bundle[:4000]) == 1 and document.count(bundle[-4000:]) == 1
    outside = document.replace(bundle, "")
    assert "Plotly.newPlot" in outside
    # No element loads anything: no src, no href, no @import, no url(...) anywhere outside Plotly's own bundle.
    loader = r"<(script|link|img|iframe|audio|video|source|object|embed)\b[^>]*\b(src|href|data)\s*="
    assert not re.search(loader, outside, re.I)
    assert not re.search(r"@import|url\(", outside, re.I)
    # The only addresses in the file are the audience link (written out, and in its QR code's label).
    assert set(re.findall(r"https?://[^\s\"'<>]+", outside)) == {LINK}


def test_every_scene_is_titled_and_told_and_the_speakers_notes_are_hidden_from_the_projector(document, runs):
    css = asset("player.css")
    assert ".notes, .cues { display: none; }" in css  # the projector's window: no notes, no clocks
    assert "body.speaker .stage { display: none; }" in css  # the speaker's window: no chart
    for scene in SCENES:
        part = section(document, scene.number)
        assert f"<h1>{html.escape(f'Scene {scene.number} of {len(SCENES)} · {scene.title}')}</h1>" in part
        told = " ".join(sentences(scene, runs[scene.number], offline=True))
        assert f'<p class="lead">{html.escape(told)}</p>' in part
        notes = notes_for(scene, runs[scene.number])
        for line in notes.lines():
            assert html.escape(line) in part, f"scene {scene.number}'s notes miss {line[:40]!r}"
        inside_notes = part.split('<div class="notes">', 1)[1]
        assert html.escape(notes.ask) in inside_notes
    assert 'aria-label="QR code of ' + LINK in section(document, 1)


def test_scene_3s_board_shows_explain_steps_numbers_which_are_the_post_loops(document):
    scene = SCENE[3]
    step = explain_step(scene.config, scene.epoch)
    board = section(document, 3)
    text = html.unescape(re.sub(r"<[^>]+>", " ", board))
    shown = board_numbers(text)
    watched = post_loop(scene.config, watch={scene.epoch})["watched"][scene.epoch]  # independent: plain autograd
    for name, ours, theirs in (
        ("prediction", float(step.prediction[0]), float(watched["prediction"][0])),
        ("loss", step.loss, watched["loss"]),
        ("grad_bias", float(step.grad[10]), float(watched["grad"][10])),
    ):
        assert shown[name] == float(f"{ours:.3g}"), name  # explain_step's number, to the 3 digits a hall reads
        assert math.isclose(shown[name], theirs, rel_tol=5.1e-3), name  # 3 significant digits
    text = text.replace("−", "-")
    for value in (float(step.params_before[10]), float(step.params_after[10])):  # b before and after the update
        assert f"{value:.3g}" in text
    assert math.isclose(float(step.params_after[10]), float(watched["params_after"][10]), rel_tol=1e-6)


def test_a_missing_or_foreign_run_and_an_unknown_theme_are_refused(runs):
    with pytest.raises(ValueError, match="scene 4"):
        talk_html({**runs, 4: runs[1]})
    with pytest.raises(ValueError, match="theme"):
        talk_html(runs, theme="sepia")


def test_a_link_phones_cannot_open_is_said_beside_its_code_and_never_asked_to_be_scanned(runs):
    why = "Phones cannot open 127.0.0.1: it is this computer's own address."
    document = talk_html(
        runs, links={1: "http://127.0.0.1:8501/?scene=1", 6: "http://127.0.0.1:8501/?scene=6"}, unreachable=why
    )
    for number in (1, 6):
        part = section(document, number)
        lead = re.search(r'<p class="lead">(.*?)</p>', part, re.S).group(1)
        assert "scan" not in lead.lower(), lead
        assert f'<p class="warning">⚠ {html.escape(why)}</p>' in part
        assert "Scan to follow along" not in part
    assert "Phones cannot open" in section(document, 1).split('<p class="lead">', 1)[1].split("</p>", 1)[0]
