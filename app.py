"""lucky5's Streamlit page: watch one linear layer learn the number 5, and see why it ignores its input.

This file only reads widgets and the URL, builds one frozen ``Config``, calls the core
(``lucky5``) and draws what it returns. Training, theory, metrics and figures live in the
package; nothing here does arithmetic a learner would need to trust.

Hot path: Streamlit reruns this whole script on every click. So training and figures are
cached per Config, torch uses one thread, and the garbage collector ignores the objects
created by the imports (``gc.freeze``), which alone saved ~130 ms per rerun.
"""

from __future__ import annotations

import gc
import math
import re
import secrets
import threading
from urllib.parse import urlencode

import plotly.graph_objects as go
import segno
import streamlit as st
import torch

from lucky5 import Config, checkpoint, figures, from_query, metrics, theory, to_query
from lucky5.config import FIELD_NAMES, LIMITS, MAX_LR, MAX_SEED, NUMBER, OPTIMIZER_FIELDS, OPTIMIZERS
from lucky5.engine import History, train, train_many
from lucky5.export import history_csv, standalone_script

PAGE_PARAMS = ("present", "x")  # URL parameters of the page itself, besides the Config fields
PRESENT_VALUES = ("1", "true", "yes")
PRESETS: dict[str, dict] = {
    "The blog post": {},
    "Too fast: it diverges": {"lr": 0.5},
    "Patience: 20,000 epochs": {"epochs": 20_000},
    "Adam": {"optimizer": "adam", "lr": 0.05, "epochs": 2_000},
    "Big batches: less noise": {"batch_size": 64, "epochs": 2_000, "lr": 0.05},
}
LEDGER_SIZE = 10


def settle_gc() -> None:
    """Move every object alive now out of reach of the garbage collector's full passes.

    Streamlit runs ``gc.collect()`` after every rerun, and a full pass walks every tracked
    object: torch, plotly, pandas and our caches are hundreds of thousands of them (~100 ms a
    rerun). They live as long as the process, so they are frozen once they exist; frozen
    objects are still freed by reference counting when a cache drops them.
    """
    gc.collect()
    gc.freeze()


@st.cache_resource
def _process_setup() -> threading.Lock:
    """Once per process: one torch thread, the modules a run loads lazily, a frozen GC, the training lock."""
    torch.set_num_threads(1)  # tiny tensors: threads only add hand-over cost between sessions
    # Load what the first run would load lazily (torchmetrics pulls in sympy; tables pandas and
    # pyarrow; images PIL), so that the freeze below covers it.
    import pandas  # noqa: F401
    import PIL.Image  # noqa: F401
    import pyarrow  # noqa: F401

    history = train(Config(epochs=2))
    metrics.evaluate(history.layer(), 5.0, n=1)
    figures.animation(history, torch.zeros(10))
    settle_gc()
    return threading.Lock()  # concurrent trainings are slower than serial ones (GIL hand-over)


TRAIN_LOCK = _process_setup()


# --- cached core calls ------------------------------------------------------------------------------------------


@st.cache_data(max_entries=64, show_spinner=False)
def run(config: Config) -> History:
    """Train ``config`` (cached per Config; each session gets its own copy)."""
    bar = st.empty()  # the progress bar lives inside the cached function, so cache hits replay nothing stale

    def progress(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Training: epoch {done:,} of {total:,}")

    with TRAIN_LOCK:
        history = train(config, progress=progress if config.epochs >= 5_000 else None)
    bar.empty()
    settle_gc()  # the new cache entry lives on: keep it out of every later rerun's gc pass
    return history


@st.cache_data(max_entries=16, show_spinner="Training every seed…")
def run_seeds(config: Config, k: int) -> list[History]:
    with TRAIN_LOCK:
        return train_many(config, seeds=[(config.seed + i) % (MAX_SEED + 1) for i in range(k)])


@st.cache_data(max_entries=16, show_spinner="Racing…")
def run_lrs(config: Config, lrs: tuple[float, ...]) -> list[History]:
    with TRAIN_LOCK:
        return train_many(config, lrs=lrs)


class FrozenFigure(go.Figure):
    """A finished figure spec (a dict) that ``st.plotly_chart`` takes as it is.

    Given a dict, ``st.plotly_chart`` rebuilds and validates a whole figure from it; given a
    Figure, it calls ``to_dict()``, which deep-copies every frame. Either costs ~100 ms or more
    per rerun for a figure that never changes once built, so this Figure hands over its dict.
    """

    def __init__(self, spec: dict | go.Figure) -> None:
        super().__init__()
        self._spec = spec.to_dict() if isinstance(spec, go.Figure) else spec

    def to_dict(self) -> dict:
        return self._spec


@st.cache_resource(max_entries=32, show_spinner=False)
def animation_figure(config: Config, x: tuple[float, ...]) -> FrozenFigure:
    """The animation, built once per (run, input) and shared read-only between sessions."""
    figure = FrozenFigure(figures.animation(run(config), torch.tensor(x, dtype=torch.float64)))
    settle_gc()  # ~13,000 small lists and dicts that every later gc pass would walk
    return figure


@st.cache_resource(max_entries=64, show_spinner=False)
def contributions_figure(config: Config, x: tuple[float, ...]) -> FrozenFigure:
    return FrozenFigure(figures.contributions(run(config), torch.tensor(x, dtype=torch.float64)))


@st.cache_data(max_entries=64, show_spinner=False)
def qr_png(link: str, scale: int) -> str:
    return segno.make(link, error="m").png_data_uri(scale=scale, border=2)


@st.cache_data(max_entries=64, show_spinner=False)
def evaluation(config: Config, n: int) -> metrics.Evaluation:
    """The post's test loop on this run's layer (cached: torchmetrics costs ~10 ms per call)."""
    return metrics.evaluate(run(config).layer(), config.target, n=n, seed=config.seed)


@st.cache_data(max_entries=8, show_spinner=False)
def csv_of(config: Config) -> str:
    return history_csv(run(config))


# --- URL and session state -----------------------------------------------------------------------------------------


def default_input(seed: int) -> tuple[float, ...]:
    """A reproducible 'your input' for a seed, drawn from its own generator like every lucky5 draw."""
    g = torch.Generator().manual_seed((seed + 1) % (MAX_SEED + 1))
    return tuple(round(v, 3) for v in torch.rand(10, generator=g).tolist())


INPUT_LIMIT = 1e6


def parse_input(text: str) -> tuple[tuple[float, ...] | None, str | None]:
    """Ten numbers separated by commas, semicolons or spaces, or (None, a message saying what is wrong)."""
    for i, ch in enumerate(text):
        if not (ch.isascii() and (ch.isalnum() or ch in "+-.,; \t\n")):
            allowed = "use digits 0–9, '.', '-', 'e' and commas or spaces"
            return None, f"Character {i + 1}, {ch!r}, is not allowed: {allowed}."
    parts = text.replace(",", " ").replace(";", " ").split()
    if len(parts) != 10:
        hint = " Commas separate numbers: write 1000, not 1,000." if re.search(r"\d,\d{3}\b", text) else ""
        return None, f"Type exactly 10 numbers separated by commas or spaces (found {len(parts)}).{hint}"
    values = []
    for i, part in enumerate(parts, 1):
        if part.lower().lstrip("+-") in ("nan", "inf", "infinity"):
            return None, f"Number {i} is {part!r}: only finite numbers can be fed to the layer."
        if not NUMBER.fullmatch(part):
            return None, f"Number {i}, {part[:20]!r}, is not a number like 0.25 or 1e-3."
        v = float(part)
        if not abs(v) <= INPUT_LIMIT:  # also catches 1e999, which float() turns into inf
            return None, f"Number {i} ({part[:20]}) is beyond ±1,000,000: too far out to say anything useful."
        values.append(v)
    return tuple(values), None


def format_input(x: tuple[float, ...]) -> str:
    return ", ".join(f"{v:g}" for v in x)


def init_session() -> None:
    """First run of a session: the URL decides the run, the widgets and the input."""
    params = {name: st.query_params.get_all(name) for name in st.query_params}
    config, notices = from_query(params, extra=PAGE_PARAMS)
    present = params.get("present", [""])[-1]
    if present.lower() not in PRESENT_VALUES + ("", "0", "false", "no"):
        notices.append(f"Ignored present={present[:20]!r}: use present=1 for presenter mode.")
    x = default_input(config.seed)
    if "x" in params:
        parsed, problem = parse_input(params["x"][-1])
        if parsed is None:
            notices.append(f"Ignored x: {problem}")
        else:
            x = parsed
    notices = [f"From the link: {notice}" for notice in notices]
    st.session_state.update(run=config, x=x, x_text=format_input(x), notices=notices)
    st.session_state.setdefault("ledger", [])
    set_widgets(config)


def set_widgets(config: Config) -> None:
    """Show ``config`` in the sidebar's widgets (before they are drawn in this run)."""
    for name in FIELD_NAMES:
        if name == "betas":
            st.session_state.w_beta1, st.session_state.w_beta2 = config.betas
        else:
            st.session_state[f"w_{name}"] = getattr(config, name)


def start_run(config: Config) -> None:
    st.session_state.run = config
    set_widgets(config)


def sync_url(config: Config, present: bool) -> None:
    """Keep the address bar equal to the run on screen, so the link reproduces it."""
    wanted = {**to_query(config), "x": format_input(st.session_state.x)}
    if present:
        wanted["present"] = "1"
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
    st.session_state.synced_query = wanted


def url_changed() -> bool:
    """True when the address bar no longer shows what this page last wrote there (back/forward, edits)."""
    return "run" in st.session_state and st.query_params.to_dict() != st.session_state.get("synced_query")


def share_link(config: Config) -> str:
    base = (st.context.url or "http://localhost:8501/").split("?")[0]
    return base + "?" + urlencode({**to_query(config), "x": format_input(st.session_state.x)})


# --- sidebar -------------------------------------------------------------------------------------------------------


def sidebar() -> Config | None:
    """The controls; returns the Config they describe, or None (with a message) if it is not valid."""
    sb = st.sidebar
    sb.header("Settings")
    sb.selectbox("Preset", ["—", *PRESETS], key="preset", on_change=_apply_preset,
                 help="Fill in the settings and train.")
    sb.number_input("Lucky number (the target)", key="w_target", step=1.0, format="%g")
    sb.number_input("Epochs", key="w_epochs", step=100, help="Optimizer steps; each sees fresh random inputs.",
                    **_bounds("epochs"))
    sb.selectbox("Optimizer", OPTIMIZERS, key="w_optimizer", format_func=_optimizer_name)
    sb.number_input("Learning rate", key="w_lr", step=0.005, format="%.6f")
    sb.number_input("Batch size", key="w_batch_size", step=1, help="Random rows per step (the post used 1).",
                    **_bounds("batch_size"))
    c1, c2 = sb.columns([3, 2], vertical_alignment="bottom")
    c1.number_input("Seed", key="w_seed", step=1, **_bounds("seed"))
    c2.button("New seed", on_click=_new_seed, help="Draw another seed and train.")
    optimizer = st.session_state.w_optimizer
    with sb.expander(f"{_optimizer_name(optimizer)} settings", expanded=False):
        for name in OPTIMIZER_FIELDS[optimizer]:
            _optimizer_widget(name)
    try:
        pending = Config(**_widget_values())
    except ValueError as err:
        sb.error(f"These settings cannot train: {err}")
        return None
    _stability_gauge(pending)
    sb.button("Train", type="primary", width="stretch", on_click=_train_from_widgets,
              help="Train with these settings (a run seen before comes from the cache).")
    return pending


def _bounds(name: str) -> dict:
    """A whole-number widget's min and max: Config's own, so the sidebar can show any valid link.

    Decimal settings get no widget bounds: a widget would silently clamp a link's value, while
    Config's validation says in words what is wrong (shown above the Train button).
    """
    lo, hi = LIMITS[name]
    return {"min_value": lo, "max_value": hi}


def _optimizer_name(name: str) -> str:
    return {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}[name]


def _optimizer_widget(name: str) -> None:
    key = f"w_{name}"
    if name in ("nesterov", "amsgrad", "centered"):
        st.checkbox(name.capitalize(), key=key)
    elif name == "betas":
        st.number_input("Beta 1 (momentum of the gradient)", key="w_beta1", step=0.01, format="%.6f")
        st.number_input("Beta 2 (momentum of its square)", key="w_beta2", step=0.001, format="%.6f")
    elif name == "eps":
        st.number_input("Epsilon", key=key, format="%.1e")
    else:
        labels = {"momentum": "Momentum", "dampening": "Dampening", "weight_decay": "Weight decay",
                  "alpha": "Alpha (smoothing)", "lr_decay": "Learning-rate decay"}
        st.number_input(labels[name], key=key, step=0.01, format="%.4f")


def _widget_values() -> dict:
    s = st.session_state
    values = {name: s[f"w_{name}"] for name in ("epochs", "optimizer", "lr", "target", "batch_size", "seed")}
    for name in set(OPTIMIZER_FIELDS[values["optimizer"]]):
        values[name] = (float(s.w_beta1), float(s.w_beta2)) if name == "betas" else s[f"w_{name}"]
    for name in ("epochs", "batch_size", "seed"):
        values[name] = int(values[name])
    for name in ("lr", "target"):
        values[name] = float(values[name])
    return values


def _apply_preset() -> None:
    name = st.session_state.preset
    if name in PRESETS:
        start_run(Config(seed=st.session_state.run.seed, **PRESETS[name]))


def _train_from_widgets() -> None:
    # Read the widgets now, not when the button was drawn: a value typed just before the click
    # reaches the session state in the same rerun as the click.
    try:
        start_run(Config(**_widget_values()))
    except ValueError as err:
        st.session_state.notices = [f"Not trained: {err}."]


def _new_seed() -> None:
    try:
        config = Config(**{**_widget_values(), "seed": secrets.randbelow(1_000_000)})
    except ValueError as err:
        st.session_state.notices = [f"No new seed: these settings cannot train ({err})."]
        return
    st.session_state.x = default_input(config.seed)
    st.session_state.x_text = format_input(st.session_state.x)
    start_run(config)


def _plain_sgd(c: Config) -> bool:
    """The settings for which theory.sgd_critical_lr is exact."""
    return c.optimizer == "sgd" and not c.nesterov and c.dampening == 0 and c.weight_decay == 0


def divergence_hint(c: Config) -> str:
    if abs(c.target) > 1e15:
        return f"the lucky number {c.target:g} is so large that its squared error overflows float32; try a smaller one"
    if c.optimizer in ("sgd", "rmsprop") and c.momentum >= 1:
        return f"momentum {c.momentum:g} is 1 or more, so the steps never shrink; use a momentum below 1"
    if _plain_sgd(c):
        return f"try a learning rate below ≈ {0.8 * theory.sgd_critical_lr(c.batch_size, c.momentum):.2g}"
    momentum = c.optimizer in ("sgd", "rmsprop") and c.momentum >= 0.5
    return f"try a smaller learning rate than {c.lr:g}" + (f" or less momentum than {c.momentum:g}" if momentum else "")


def _stability_gauge(config: Config) -> None:
    """Before training: the chosen lr against the step size at which SGD blows up."""
    sb = st.sidebar
    if config.optimizer != "sgd":
        sb.caption(f"{_optimizer_name(config.optimizer)} rescales each step, so the SGD stability limit "
                   "does not apply directly.")
        return
    if not _plain_sgd(config):
        sb.caption("The stability limit below is exact for plain SGD; Nesterov, dampening and weight decay "
                   "move it a little.")
    limit = theory.sgd_critical_lr(config.batch_size, config.momentum)
    if limit <= 0:
        sb.warning(f"Momentum {config.momentum:g} is 1 or more: SGD's steps never shrink, so it diverges at "
                   "any learning rate.")
        return
    ratio = config.lr / limit
    verdict = "stable" if ratio < 0.5 else "near the edge" if ratio < 1 else "expect divergence"
    sb.progress(min(1.0, ratio), text=f"Stability: lr is {ratio:.0%} of the limit ≈ {limit:.3g} ({verdict})")


# --- main panels -----------------------------------------------------------------------------------------------------


def header(present: bool) -> None:
    st.title("lucky5: a network learns the number 5")
    st.markdown(
        "One `nn.Linear(10, 1)` sees ten random numbers and must answer **the lucky number**. "
        "The inputs carry no information, so the best it can do is ignore them: **w = 0, b = 5**. "
        "Watch it learn the answer fast, then slowly learn that the input does not matter."
    )
    if present:
        st.html(PRESENT_CSS)


def summary(history: History, x: tuple[float, ...]) -> None:
    c = history.config
    if history.diverged_at is not None:
        shown = (f"the charts show only the {history.steps:,} finite epochs before that" if history.steps
                 else "it blew up on the very first epoch, so the charts show only the starting point")
        st.error(f"**Diverged at epoch {history.diverged_at:,}**: {divergence_hint(c)}. The loss or the weights "
                 f"stopped being finite numbers; {shown}.")
    w, b = history.weights[-1], history.final_bias
    pred = float(figures.predictions_for(history, torch.tensor(x, dtype=torch.float64))[-1])
    cols = st.columns(4)
    cols[0].metric("Final loss", f"{float(history.losses[-1]):.3g}" if history.steps else "—")
    cols[1].metric("Bias b", f"{b:.4g}", help=f"The optimum is b = {c.target:g}.")
    cols[2].metric("Size of the weights ‖w‖", f"{float(w.norm()):.3g}", help="The optimum is w = 0.")
    cols[3].metric("Prediction for your input", f"{pred:.4g}")
    took = f"{history.seconds * 1000:.0f} ms" if history.seconds < 1 else f"{history.seconds:.2f} s"
    st.caption(f"Run fingerprint: `{history.fingerprint()}` · {history.steps:,} epochs in {took} "
               "· same settings, same fingerprint, on any machine.")


def your_input(history: History) -> tuple[float, ...]:
    st.subheader("Your input")
    c1, c2 = st.columns([5, 1], vertical_alignment="bottom")
    c1.text_input("Ten numbers, separated by commas or spaces", key="x_text",
                  help="The layer was trained on numbers between 0 and 1.")
    c2.button("Randomise", on_click=_randomise, width="stretch")
    parsed, problem = parse_input(st.session_state.x_text)
    if problem:
        st.error(f"{problem} Showing the last good input: {format_input(st.session_state.x)}.")
    else:
        st.session_state.x = parsed
    x = st.session_state.x
    outside = [i + 1 for i, v in enumerate(x) if not 0 <= v <= 1]
    if outside:
        st.warning(f"Inputs {', '.join(map(str, outside))} are outside [0, 1], what the model was trained on: "
                   "the weights it still has (‖w‖ > 0) now matter more.")
    return x


def _randomise() -> None:
    x = tuple(round(secrets.randbelow(1000) / 1000, 3) for _ in range(10))
    st.session_state.x, st.session_state.x_text = x, format_input(x)


def input_breakdown(history: History, x: tuple[float, ...]) -> None:
    st.plotly_chart(contributions_figure(history.config, x), key="contrib", config={"displayModeBar": False},
                    alt="Waterfall: the bias plus each weight times its input adds up to the prediction.")


def test_like_the_post(history: History) -> None:
    st.subheader("Test like the blog post")
    n = st.number_input("Random test inputs", min_value=1, max_value=1000, value=10, step=1, key="n_tests")
    try:
        result = evaluation(history.config, int(n))
    except ValueError as err:
        st.warning(f"Cannot test this layer: {err}")
        return
    st.dataframe(result.rows(), hide_index=True, width="stretch")
    st.markdown(f"Over all {int(n)} inputs: **MSE {result.mse:.4g}**, **MAE {result.mae:.4g}** "
                "(torchmetrics). The post printed each input's own error; its metric objects also kept "
                "accumulating every input in the background, which is the *running* column here.")


def why_not_five(history: History) -> None:
    st.subheader("Why not exactly 5?")
    c = history.config
    w, b = history.weights[-1].double(), float(history.biases[-1])
    fast = 0.5 * float(w.sum()) + b - c.target
    now = float(theory.expected_loss(w, torch.tensor(b, dtype=torch.float64), c.target))
    st.markdown(
        f"""
- **The fast direction.** On average an input is 0.5 everywhere, so the average prediction is
  0.5·Σw + b. Getting that to {c.target:g} takes tens of epochs: here it is off by **{fast:+.3g}**.
- **The slow valley.** Many (w, b) make the *average* right; only **w = 0, b = {c.target:g}** makes every
  prediction right, because then the input cannot move it. Sliding along that valley is slow:
  ‖w‖ = **{float(w.norm()):.3g}**, |b − {c.target:g}| = **{abs(b - c.target):.3g}**.
- **Expected loss** now **{now:.3g}**; at the optimum **0** (= (0.5·Σw + b − t)² + ‖w‖²/12).
"""
    )
    if c.optimizer == "sgd":
        tau = theory.slow_time_constant(c.lr, c.momentum)
        st.markdown(f"- At lr {c.lr:g} the valley shrinks by a factor e every **≈ {tau:,.0f} epochs**: "
                    f"{c.epochs:,} epochs is {c.epochs / tau:.2g} of those.")
    if c.epochs < 20_000:
        st.button("Train 20,000 epochs and watch w → 0, b → " + f"{c.target:g}", on_click=start_run,
                  args=(c.replace(epochs=20_000),))


def animation(history: History, x: tuple[float, ...]) -> None:
    fig = animation_figure(history.config, x)
    st.plotly_chart(fig, key="animation", config={"displayModeBar": False},
                    alt="Animation of training: the loss per epoch, the weights and bias as bars, and the "
                    "prediction for your input. The table below gives the same numbers.")
    # A text alternative to the animation; built only when asked for, since tables cost every rerun.
    if st.toggle("Show the animation as a table (every frame: loss, bias and weights)", key="show_table"):
        st.dataframe(_frames_table(history), hide_index=True, width="stretch")


def _frames_table(history: History) -> list[dict]:
    expected = theory.expected_losses(history)
    rows = []
    for s in figures.frame_steps(history.steps):
        row = {"epoch": s, "loss": float(history.losses[s - 1]) if s else None, "expected loss": float(expected[s]),
               "bias": float(history.biases[s])}
        row.update({f"w{i + 1}": v for i, v in enumerate(history.weights[s].tolist())})
        rows.append(row)
    return rows


def ledger_add(history: History) -> None:
    c = history.config
    entry = {"run": to_query(c), "optimizer": c.optimizer, "lr": c.lr, "epochs": c.epochs, "seed": c.seed,
             "final loss": float(history.losses[-1]) if history.steps else None,
             "distance to optimum": math.hypot(float(history.weights[-1].norm()), history.final_bias - c.target),
             "diverged at": history.diverged_at}
    ledger = [e for e in st.session_state.ledger if e["run"] != entry["run"]]
    st.session_state.ledger = [entry, *ledger][:LEDGER_SIZE]


def compare(history: History) -> None:
    st.subheader("Compare")
    c = history.config
    if st.toggle("The spread over seeds", key="show_seeds"):
        k = st.slider("Seeds", 2, 32, 8, key="k_seeds")
        st.plotly_chart(figures.seed_spread(run_seeds(c, k)), key="seeds")
    if st.toggle("A learning-rate race", key="show_race"):
        text = st.text_input("Learning rates", "0.001, 0.01, 0.05, 0.2", key="race_lrs")
        lrs, problem = _parse_lrs(text)
        if problem:
            st.error(problem)
        else:
            runs = run_lrs(c, lrs)
            st.plotly_chart(figures.race(runs, [f"lr {v:g}" for v in lrs]), key="race")
    st.markdown("**This session's runs** (newest first)")
    ledger = st.session_state.ledger
    st.dataframe([{k: v for k, v in e.items() if k != "run"} for e in ledger], hide_index=True, width="stretch")
    if len(ledger) > 1:
        pick = st.selectbox("Replay a run", range(len(ledger)), format_func=lambda i: _ledger_label(ledger[i]),
                            key="replay_pick")
        st.button("Replay", on_click=_replay, args=(ledger[pick]["run"],))


def _ledger_label(entry: dict) -> str:
    return f"#{entry['seed']} {entry['optimizer']} lr {entry['lr']:g}, {entry['epochs']:,} epochs"


def _replay(query: dict) -> None:
    start_run(from_query(query)[0])


def _parse_lrs(text: str) -> tuple[tuple[float, ...], str | None]:
    """1 to 8 learning rates separated by commas, semicolons or spaces, or a message."""
    parts = text[:2000].replace(",", " ").replace(";", " ").split()
    if not 1 <= len(parts) <= 8:
        return (), f"Type 1 to 8 learning rates separated by commas or spaces (found {len(parts)})."
    for part in parts:
        if not NUMBER.fullmatch(part) or not 0 < float(part) <= MAX_LR:
            allowed = f"type numbers above 0 and at most {MAX_LR:g}, such as 0.05"
            return (), f"{part[:20]!r} is not a learning rate: {allowed}."
    return tuple(float(p) for p in parts), None


def take_home(history: History) -> None:
    st.subheader("Take it home")
    c = history.config
    c1, c2, c3 = st.columns(3)
    # Callables: each file is made when its button is pressed, not on every rerun.
    c1.download_button("Trained layer (.safetensors)", lambda: checkpoint.to_bytes(history.layer(), c),
                       file_name=f"lucky5-seed{c.seed}.safetensors", mime="application/octet-stream")
    c2.download_button("History (.csv)", lambda: csv_of(c), file_name=f"lucky5-seed{c.seed}.csv", mime="text/csv")
    c3.download_button("This run as a PyTorch script", lambda: standalone_script(c), file_name="lucky5_run.py",
                       mime="text/x-python")
    st.markdown("**Test a checkpoint**: load a `.safetensors` file saved by lucky5 (at most 1 MB). "
                "Nothing in it can run: it holds numbers, not code.")
    upload = st.file_uploader("Checkpoint file", type=None, key="upload")
    if upload is not None:
        try:
            loaded = checkpoint.load(upload.getvalue())
        except checkpoint.CheckpointError as err:
            st.error(f"Refused {upload.name!r}: {err}")
        else:
            for notice in loaded.notices:
                st.warning(notice)
            try:
                result = metrics.evaluate(loaded.layer(), loaded.config.target, n=10, seed=loaded.config.seed)
            except ValueError as err:
                st.error(f"Loaded {upload.name!r}, but cannot test it: {err}")
                return
            st.success(f"Loaded {upload.name!r}: b = {float(loaded.bias):.4g}, "
                       f"‖w‖ = {float(loaded.weight.norm()):.3g}; on 10 random inputs "
                       f"MSE {result.mse:.4g}, MAE {result.mae:.4g}.")


def share(config: Config, present: bool) -> None:
    link = share_link(config)
    st.subheader("Share this run")
    st.code(link, language=None)
    st.caption("Copy the link (the button at the right of the box): it opens this exact run, seed included.")
    # Presenter mode always shows the QR code; elsewhere on request (it costs ~60 ms per new link).
    if present or st.toggle("Show a QR code of the link", key="show_qr"):
        st.image(qr_png(link, 8 if present else 5), caption="Scan to open this run",
                 width=360 if present else 200)


PRESENT_CSS = """<style>
html, .stMarkdown p, .stMarkdown li { font-size: 1.35rem !important; }
h1 { font-size: 3rem !important; }
[data-testid="stMetricValue"] { font-size: 2.6rem !important; }
</style>"""

# Presenter mode: press the chart's own Play button once it is on screen (Plotly animates in the browser).
AUTOPLAY_JS = """<script>
(function tryPlay(n) {
  const btn = [...document.querySelectorAll('[data-testid="stPlotlyChart"] .updatemenu-button')]
      .find(b => b.textContent.trim() === 'Play');
  if (btn) { btn.dispatchEvent(new MouseEvent('click', {bubbles: true})); }
  else if (n > 0) { setTimeout(() => tryPlay(n - 1), 250); }
})(120);
</script>"""


# --- the page ---------------------------------------------------------------------------------------------------------


def main() -> None:
    present = str(st.query_params.get("present", "")).lower() in PRESENT_VALUES
    st.set_page_config(page_title="lucky5", page_icon="🎯", layout="wide",
                       initial_sidebar_state="collapsed" if present else "auto")
    if "run" not in st.session_state or url_changed():
        init_session()
    for notice in st.session_state.pop("notices", []):
        st.warning(notice)
    sidebar()
    config = st.session_state.run
    header(present)
    top, chart, inputs = st.container(), st.container(), st.container()
    history = run(config)
    ledger_add(history)
    with inputs:  # drawn below the chart, but read first: the summary and the chart show this input
        x = your_input(history)
        input_breakdown(history, x)
    sync_url(config, present)
    with top:
        summary(history, x)
    with chart:
        animation(history, x)
        if present:
            st.html(AUTOPLAY_JS, unsafe_allow_javascript=True)
            share(config, present)
    why_not_five(history)
    test_like_the_post(history)
    compare(history)
    take_home(history)
    if not present:
        share(config, present)


main()
