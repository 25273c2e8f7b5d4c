"""What a learner does with a run: test it like the blog post, compare it, take it home, share it.

File names, file contents and links are outside text: they reach the screen through ``text.literal``.
"""

from __future__ import annotations

import streamlit as st

from lucky5 import checkpoint, figures, glossary, metrics, theory
from lucky5.config import OPTIMIZER_NAMES, SETTING
from lucky5.engine import History
from lucky5.export import standalone_script
from lucky5.inputs import parse_lrs
from lucky5.narration import number

from . import runtime, words
from . import state as page_state
from .qr import qr
from .tables import table
from .text import literal

NARROW_BOX_PX = 200


def test_like_the_post(history: History) -> None:
    st.header("Test like the blog post")
    # Narrow: the table's toolbar (shown on hover, at the table's top right) covered a full-width box's "+".
    n = st.number_input(
        "Random test inputs", min_value=1, max_value=1000, value=10, step=1, key="n_tests", width=NARROW_BOX_PX
    )
    said = _tested(repr((history.config, int(n))), history, int(n))
    if said:
        words.popover(said, key="test")


@st.cache_resource(max_entries=32, show_spinner=False)
def _tested(test_key: str, _history: History, n: int) -> tuple[str, ...]:
    """The post's test of ``n`` inputs, drawn once per (run, n) and replayed on later reruns (``_history`` is
    not hashed: ``test_key`` names it with ``n``); returns what it wrote (for its Words), nothing if it could
    not test."""
    history = _history
    try:
        result = runtime.evaluation(history.config, n)
    except ValueError as err:
        st.warning(f"Cannot test this layer: {literal(err)}")
        return ()
    rows = result.rows()
    # With a rule each row has its own target: the lucky number is no reference to tell predictions apart from.
    rule = history.config.target_rule
    table(rows, near=None if rule is not None else {"prediction": history.config.target})
    expected = theory.why_not_five(history).expected_loss
    said = (
        f"Over these {n} test inputs: **MSE {number(result.mse, 4)}** (mean squared error: the average of "
        f"(prediction − target)²), **MAE {number(result.mae, 4)}** (torchmetrics). The MSE is the expected loss, "
        f"{number(expected)}, estimated from {n} random inputs: more inputs bring it closer. The post printed each "
        "input's own error; its metric objects also kept accumulating every input in the background, which is the "
        "*running* columns here: the MSE and MAE of the inputs so far. They wobble while the inputs are few; the "
        "expected loss is what the MSE would settle at over every possible input."
    )
    st.markdown(said)
    return (*rows[0], said)


def compare(history: History) -> None:
    st.header("Compare")
    c = history.config
    if st.toggle("The spread over seeds", key="show_seeds"):
        k = st.slider("Seeds", 2, 32, 8, key="k_seeds")
        spread = figures.seed_spread(runtime.run_seeds(c, k), theme=runtime.theme())
        st.plotly_chart(spread, key="seeds")
        words.popover(words.chart_texts(spread), key="seeds")
    if st.toggle("A learning-rate race", key="show_race"):
        text = st.text_input(
            "Learning rates",
            "0.001, 0.01, 0.05, 0.2, 0.3",
            key="race_lrs",
            help="Up to eight, separated by commas. The chart marks the stability limit and the runs that blew up.",
        )
        try:
            lrs = parse_lrs(text)
        except ValueError as err:
            st.error(literal(err))
        else:
            labels = [f"lr {v:g}" for v in lrs]
            race = figures.race(runtime.run_lrs(c, lrs), labels, theme=runtime.theme())
            st.plotly_chart(race, key="race")
            words.popover(words.chart_texts(race), key="race")
    ledger(page_state.get())


# What the ledger's columns mean, for a reader who has not met the terms yet (the header's tooltip says it too).
LEDGER_MEANINGS = {
    "last epoch's loss": "The loss on the last epoch's one random input (a single sample: it jumps from epoch to "
    "epoch); not the expected loss over every input.",
    "distance to optimum": glossary.meaning("distance to optimum"),
    "diverged at": "The epoch at which the loss or the weights stopped being finite numbers; empty if never.",
}


def ledger(state: page_state.State) -> None:
    st.markdown("**This session's runs** (newest first)")
    rows = [
        {
            "optimizer": OPTIMIZER_NAMES[e.config.optimizer],
            "lr": e.config.lr,
            "epochs": e.config.epochs,
            "seed": e.config.seed,
            "last epoch's loss": e.final_loss,
            "distance to optimum": e.distance_to_optimum,
            "diverged at": e.diverged_at,
        }
        for e in state.ledger
    ]
    table(rows, meanings=LEDGER_MEANINGS)
    words.popover(list(rows[0]) if rows else [], key="ledger")
    st.caption(f"Distance to optimum: {LEDGER_MEANINGS['distance to optimum']}")
    if len(state.ledger) > 1:
        entries = state.ledger
        pick = st.selectbox(
            "Replay a run", range(len(entries)), key="replay_pick", format_func=lambda i: _label(entries[i])
        )
        st.button("Replay", on_click=page_state.start_run, args=(entries[pick].config,))


def _label(entry: page_state.LedgerEntry) -> str:
    c = entry.config
    return f"#{c.seed} {OPTIMIZER_NAMES[c.optimizer]} lr {c.lr:g}, {c.epochs:,} epochs"


def take_home(history: History) -> None:
    st.header("Take it home")
    c = history.config
    c1, c2, c3 = st.columns(3)
    # Callables: each file is made when its button is pressed, not on every rerun; a download reruns nothing.
    c1.download_button(
        "Trained layer (.safetensors)",
        lambda: checkpoint.to_bytes(history.trained, c),
        file_name=f"lucky5-seed{c.seed}.safetensors",
        mime="application/octet-stream",
        on_click="ignore",
    )
    c2.download_button(
        "History (.csv)",
        lambda: runtime.csv_of(c),
        file_name=f"lucky5-seed{c.seed}.csv",
        mime="text/csv",
        on_click="ignore",
    )
    c3.download_button(
        "This run as a PyTorch script",
        lambda: standalone_script(c),
        file_name="lucky5_run.py",
        mime="text/x-python",
        on_click="ignore",
    )
    said = (
        f"**Test a checkpoint**: {literal(glossary.meaning('checkpoint'))} Load a `.safetensors` file saved by "
        "lucky5, at most 1 MB."
    )
    st.markdown(said)
    words.popover(["Trained layer (.safetensors)", said], key="home")
    upload = st.file_uploader("Checkpoint file", type=None, key="upload")
    if upload is not None:
        _test_upload(upload.name, upload.getvalue())


def _test_upload(name: str, data: bytes) -> None:
    shown = literal(repr(name), limit=120)
    try:
        loaded = checkpoint.load(data)
    except checkpoint.CheckpointError as err:
        st.error(f"Refused {shown}: {literal(err)}")
        return
    for notice in loaded.notices:
        st.warning(literal(notice))
    try:
        layer = loaded.trained
        tested = loaded.config
        result = metrics.evaluate(layer, tested.target, n=10, seed=tested.seed, rule=tested.target_rule)
    except ValueError as err:
        st.error(f"Loaded {shown}, but cannot test it: {literal(err)}")
        return
    st.success(
        f"Loaded {shown}: b = {number(layer.bias, 4)}, ‖w‖ = {number(layer.norm)}; "
        f"on 10 random inputs MSE {number(result.mse, 4)}, MAE {number(result.mae, 4)}."
    )


# Streamlit shows a code box's copy button only while the pointer is over the box: invisible on a phone, and
# to anyone the caption sends looking for it. Under the share link it is always shown.
SHARE_CSS = """<style>
.st-key-share_link [data-testid="stCode"] > div:has([data-testid="stElementToolbarButton"]),
.st-key-share_link [data-testid="stElementToolbarButton"] { opacity: 1 !important; visibility: visible !important; }
</style>"""


def share_caption(query: dict[str, str], seed: int) -> str:
    """What the share link holds, said truly: a link names only what differs from the blog post, so the
    post's own run (seed 0 among its settings) is the bare address, and seed 0 is in no link."""
    how = "Copy the link (the copy button at the right of the box): it opens this exact run"
    if not query:
        return f"{how}. It is the bare address: this run is the blog post's own, seed {seed} and every setting."
    page_params = {"x": "your input", "scene": "the scene"}
    named = ", ".join(SETTING[k].label if k in SETTING else page_params.get(k, k) for k in query)
    rest = "" if "seed" in query else f"; the seed is the post's, {seed}"
    return f"{how}. It names what differs from the blog post ({named}); the rest are the post's settings{rest}."


def share(present: bool) -> None:
    link = page_state.share_link(page_state.get())
    st.header("Share this run")
    st.html(SHARE_CSS)
    with st.container(key="share_link"):
        st.code(link, language=None, wrap_lines=True)
    st.caption(share_caption(page_state.run_query(page_state.get()), page_state.get().run.seed))
    # Presenter mode always shows the QR code; elsewhere on request (each new link costs a QR encoding).
    if present or st.toggle("Show a QR code of the link", key="show_qr"):
        qr(
            link,
            8,
            width=360 if present else 200,
            caption="Scan to open this run",
            alt="QR code of the link to this run",
        )
