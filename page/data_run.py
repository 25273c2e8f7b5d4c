"""What a run on the viewer's own data shows (``page.data`` reads the data and trains): theory's verdict from the
rows (``lucky5.theory.empirical``: the stability limit, where SGD ends, the loss one neuron cannot beat), the run's
numbers and fingerprint, the trained network with its unused inputs grey, the checkpoint, and the link, which
carries the settings but never the file. The panels built on uniform inputs are hidden, with a sentence why.
"""

from __future__ import annotations

import streamlit as st
import torch

from lucky5 import checkpoint, figures, theory
from lucky5.config import OPTIMIZER_NAMES, Config
from lucky5.data import Data, write_csv
from lucky5.engine import History
from lucky5.export import DATA_FILE, standalone_script
from lucky5.layer import Layer
from lucky5.narration import number, share_of

from . import data as page_data
from . import runtime
from . import state as page_state
from .panels import CHART_CONFIG
from .text import literal
from .tools import SHARE_CSS

CHART_HEIGHT = 400  # px: the network and the loss chart side by side, one height


def optimizer_words(config: Config) -> str:
    """The optimizer as the verdict names it: "SGD with momentum 0.1", "Adam", ..."""
    momentum = f" with momentum {config.momentum:g}" if config.optimizer == "sgd" and config.momentum else ""
    return OPTIMIZER_NAMES[config.optimizer] + momentum


def fit_of(history: History) -> theory.DataFit:
    """Where SGD ends on the run's data (``theory.data_fit`` from the run's own start)."""
    assert history.data is not None
    start = Layer.of(history, 0)
    theta = torch.cat([start.weight.double(), torch.tensor([float(start.bias)], dtype=torch.float64)])
    return _fit(history.config, history.data.digest, history.data, theta)


@st.cache_data(max_entries=32, show_spinner=False)
def _fit(config: Config, digest: str, _data: Data, _start: torch.Tensor) -> theory.DataFit:
    """Cached per (settings, the data's digest): the start is the seed's initialisation, so the settings fix it."""
    return theory.data_fit(_data, start=_start, weight_decay=config.weight_decay, noise=config.noise)


def verdict(history: History) -> None:
    """Theory's verdict for the data, before looking at the run: the stability limit, the end and the floor."""
    c, data = history.config, history.data
    assert data is not None
    gauge = page_data.stability(c, data)
    fit = fit_of(history)
    with st.container(key="own_data_verdict"):
        if gauge.limit is not None and gauge.ratio is not None:
            said = (
                f"For your data, {optimizer_words(c)} settles below **lr ≈ {number(gauge.limit)}**; this run's "
                f"lr {number(c.lr)} is {share_of(gauge.ratio, 'the limit')} ({gauge.verdict})."
            )
        else:
            said = f"For your data theory claims no stability limit for {optimizer_words(c)} ({gauge.verdict})."
            said += f" {literal(gauge.note)}." if gauge.note else ""
        end = theory.data_zeroed(data, fit.theta).tolist()  # no −9×10⁻⁸ where float32 rounding means 0
        weights = ", ".join(
            f"{literal(n, limit=40)}: {number(w)}" for n, w in zip(data.feature_names, end, strict=False)
        )
        said += (
            f" It will end near these weights: {weights}, and {bias_name(data)} = {number(end[-1])}; the loss one "
            f"neuron cannot beat on your data is **{number(theory.data_zeroed_loss(data, fit.floor))}**."
        )
        st.markdown(said)
        if fit.rank < data.width + 1:
            named = [literal(n, limit=40) for n in theory.data_collinear(data)]
            st.caption(theory.data_collinear_note(named))


def bias_name(data: Data) -> str:
    """The layer's bias, named so that a column called b is never read as it: plain ``b`` otherwise."""
    return "b (the layer's bias, not column 'b')" if "b" in (*data.feature_names, data.target_name) else "b"


def summary(history: History) -> None:
    """The run's numbers on its data, and the fingerprint (the data's digest is in it)."""
    data = history.data
    assert data is not None
    layer, fit = history.trained, fit_of(history)
    if history.diverged_at is not None:
        st.error(f"**Diverged at epoch {history.diverged_at:,}**: {page_data.stability(history.config, data).hint}.")
    loss = theory.data_expected_loss(data, layer.weight, layer.bias)
    floor = theory.data_zeroed_loss(data, fit.floor)
    theta = torch.cat([layer.weight.double(), torch.tensor([float(layer.bias)], dtype=torch.float64)])
    cols = st.columns(3)
    cols[0].metric(
        "Mean squared error on your data",
        number(theory.data_zeroed_loss(data, loss)),
        help=f"Over every row; no layer goes below {number(floor)}.",
    )
    end_b = float(theory.data_zeroed(data, fit.theta)[-1])
    cols[1].metric(
        f"Bias {bias_name(data)}",
        number(float(theory.data_zeroed(data, theta)[-1])),
        help=f"Theory's end: {bias_name(data)} = {number(end_b)}.",
    )
    # Each coordinate of the gap within float32 rounding of 0 is 0: a run that reached the end reads 0.
    gap = float(torch.linalg.vector_norm(theory.data_zeroed(data, theta - fit.theta)))
    cols[2].metric(
        "Distance to theory's end",
        number(gap),
        help="How far this run's weights and bias still are from where theory says SGD ends on your data (the "
        "verdict's weights and b): the length of the difference, all eleven numbers together, √(Σ(wᵢ − wᵢ*)² + "
        "(b − b*)²). 0 means the run is there; it shrinks as you train longer.",
    )
    if history.diverged_at is None:
        _outlook(history, data, loss)
    took = f"{history.seconds * 1000:.0f} ms" if history.seconds < 1 else f"{history.seconds:.2f} s"
    st.caption(
        f"Run fingerprint: `{history.fingerprint()}` · {history.steps:,} epochs in {took} · the data's digest "
        f"`{data.digest[:12]}` is part of it: same settings and same data, same fingerprint, on any machine."
    )


def _outlook(history: History, data: Data, loss: float) -> None:
    """Advice when the run ended well above where it is headed (``theory.data_outlook``): train longer, for as many
    epochs as theory suggests, or, when SGD's jitter holds it there, a smaller learning rate."""
    c = history.config
    seen = theory.data_outlook(c, data, loss, history.steps)
    if not seen.above:
        return
    far = f"The mean squared error is still {number(seen.excess)} above where this run is headed ({number(seen.floor)})"
    if seen.jitter and seen.tau is not None:
        st.info(
            f"{far}, after {history.steps:,} epochs, over {history.steps / seen.tau:,.0f} of its slowest time "
            f"constants (≈ {seen.tau:,.0f} epochs): that is SGD's jitter at lr {number(c.lr)}, which more epochs do "
            "not remove. A smaller learning rate jitters less."
        )
    elif seen.epochs is not None and seen.tau is not None:
        st.info(
            f"{far}: train longer. The slowest direction on your data shrinks by a factor e every ≈ {seen.tau:,.0f} "
            f"epochs at lr {number(c.lr)}, so theory suggests about **{seen.epochs:,} epochs** (this run had "
            f"{history.steps:,}) to come within {number(seen.tolerance)} of it."
        )
        st.button(
            f"Train {seen.epochs:,} epochs",
            key="own_data_longer",
            on_click=page_state.start_run,
            args=(c.replace(epochs=seen.epochs),),
        )
    else:
        st.info(f"{far}: try more epochs. Theory gives no time constant for {optimizer_words(c)}, so no number.")


def network(history: History) -> None:
    """The trained layer drawn on the data's first row, theory's end dotted, unused inputs grey, beside the run's loss
    chart (where the lesson has its own)."""
    data = history.data
    assert data is not None
    fit = fit_of(history)
    spec = figures.network_figure(
        history.weights[-1:],
        history.biases[-1:],
        data.inputs()[0],
        float(data.target[0]),
        figures.palette(runtime.theme()),
        names=["end"],
        reference=(fit.weight, fit.bias),
        goal="row 1's target",
        used=data.width,
        still=True,
    )
    spec["layout"]["title"]["text"] = spec["layout"]["title"]["text"].replace("your input", "your data's first row")
    spec["layout"]["height"] = CHART_HEIGHT
    loss = figures.data_loss_figure(
        history, floor=theory.data_zeroed_loss(data, fit.floor), theme=runtime.theme(), height=CHART_HEIGHT
    )
    drawing, chart = st.columns(2)  # side by side on a laptop, one above the other on a phone
    with drawing, st.container(key="own_data_network"):
        st.plotly_chart(
            runtime.FrozenFigure(spec),
            key="own_data_chart",
            config=CHART_CONFIG,
            alt="The trained network on your data's first row: each edge as wide as its weight, unused inputs grey, "
            "theory's end as dotted grey edges.",
        )
    with chart, st.container(key="own_data_loss"):
        st.plotly_chart(
            runtime.FrozenFigure(loss),
            key="own_data_loss_chart",
            config=CHART_CONFIG,
            alt="The loss per epoch on a log scale: each epoch's sampled rows, the mean squared error over every row, "
            "and the floor one neuron cannot beat, dotted.",
        )


def elsewhere() -> None:
    """What a data run does not show, and why."""
    st.info(
        "The animation, the valley, why not exactly 5, inside one step and the blog post's test describe ten "
        "uniform random inputs (torch.rand), so they are hidden for a run on your data: the verdict above is "
        "theory computed from your rows instead. Choose the lucky number or a rule above to see them again."
    )


def share() -> None:
    """The link to these settings, and why it cannot be the link to this run."""
    st.header("Share these settings")
    st.html(SHARE_CSS)  # the copy button always shown, as under the share link of the lucky number's run
    with st.container(key="share_link"):
        st.code(page_state.share_link(page_state.get()), language=None, wrap_lines=True)
    st.caption(
        "This link carries the settings only, not your file: whoever opens it gets the same settings trained on "
        "the lucky number, and can upload a file of their own. The run fingerprint above names your data by its "
        "digest, so this run can still be matched to its file later."
    )


def take_home(history: History) -> None:
    """The checkpoint (it records the data's digest and column names), the run as a plain PyTorch script, and the
    rows it trained on as the file that script reads (standardised numbers included)."""
    data = history.data
    assert data is not None
    c1, c2, c3 = st.columns(3)
    c1.download_button(
        "Trained layer (.safetensors)",
        lambda: checkpoint.to_bytes(history),
        file_name=f"lucky5-data-{data.digest[:12]}.safetensors",
        mime="application/octet-stream",
        on_click="ignore",
        help="It records your data's digest and column names beside the settings.",
    )
    c2.download_button(
        "This run as a PyTorch script",
        lambda: standalone_script(history.config, data),
        file_name="lucky5_run.py",
        mime="text/x-python",
        on_click="ignore",
        help=f"Put it beside {DATA_FILE} (the next button): it prints this run's weights.",
    )
    c3.download_button(
        f"The rows it trained on ({DATA_FILE})",
        lambda: write_csv(data),
        file_name=DATA_FILE,
        mime="text/csv",
        on_click="ignore",
    )
