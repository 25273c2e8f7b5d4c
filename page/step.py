"""The "Inside one step" panel: the arithmetic of one optimizer step of the run on screen, with its own numbers.

The viewer picks an epoch; the panel shows what PyTorch computed at that step: the inputs, the prediction,
the loss, the gradient by the chain rule, the optimizer's update with its state before and after, and how
the prediction for the same inputs moved. Every number and equation comes from ``lucky5.step`` (the same
sections ``python -m lucky5 --explain-step K`` prints); this module only lays them out. All text here is
the page's own, so Markdown and LaTeX are safe to use.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from lucky5 import Config
from lucky5.engine import History
from lucky5.step import PARAMETER_LABELS, Step, Table, explain_step, sections, table, update_rule

from . import prose, runtime, tables, words
from .text import literal

KEY = "step_k"
OPENING_EPOCH = 1  # the second step: the optimizer's state from the first one is already there to see
INTRO = (
    "Pick an epoch and see exactly what PyTorch computed in it, with this run's own numbers: "
    "the forward pass, the loss, `loss.backward()` and `optimizer.step()`."
)


@st.cache_data(max_entries=32, show_spinner="Replaying the run up to that epoch…", hash_funcs=runtime.KEYS)
def explained(config: Config, k: int) -> Step:
    """``explain_step`` cached per (run, epoch); it retrains up to k, so it takes the training lock."""
    with runtime.TRAIN_LOCK:
        return explain_step(config, k)


def inside_one_step(history: History) -> None:
    """Draw the panel for ``history``'s run: an epoch picker in the main area, then the step's arithmetic."""
    st.header("Inside one step")
    if history.steps == 0:
        st.info(
            f"This run diverged at its very first epoch: no step has finite numbers to show. "
            f"A smaller learning rate than {history.config.lr:g} keeps it finite."
        )
        return
    last = history.steps - 1
    st.markdown(INTRO)
    if history.diverged_at is not None:
        st.warning(
            f"This run diverged at epoch {history.diverged_at:,}: from there on its numbers are not finite. "
            f"You can look inside epochs 0 to {last:,}; the last of them shows the step that overshot."
        )
    # The picker's value lives under its key; a new run may have fewer epochs than the value kept from the last.
    kept = st.session_state.get(KEY)
    if not isinstance(kept, int) or not 0 <= kept <= last:
        st.session_state[KEY] = min(OPENING_EPOCH, last)
    k = st.number_input(
        f"Epoch (0 to {last:,})",
        min_value=0,
        max_value=last,
        step=1,
        key=KEY,
        help="Counted from 0, like the loss curve: epoch k is the k-th optimizer step.",
    )
    try:
        config, epoch = history.config, int(k)
        words.popover(lambda: _texts(explained(config, epoch)), key="step")
        _drawn(repr((config, epoch)), config, epoch)
    except ValueError as err:  # cannot happen within the bounds above; said plainly if it ever does
        st.error(f"This epoch cannot be shown: {err}")


@st.cache_resource(max_entries=32, show_spinner="Replaying the run up to that epoch…")
def _drawn(step_key: str, _config: Config, _k: int) -> None:
    """``_draw`` of epoch ``_k`` of the run, once per (run, epoch): a later rerun replays the elements Streamlit
    recorded here rather than building them again, and needs no ``Step`` (``step_key`` names the arguments after
    it, which are not hashed). The spinner is this function's: a cached function inside another shows none."""
    _draw(explained(_config, _k))


# KaTeX puts wide equations in a box that scrolls sideways (on a phone); a box that scrolls must be reachable
# by keyboard (WCAG 2.1.1), so each one gets tabindex=0 as it appears.
FOCUSABLE_EQUATIONS_JS = """<script>
(() => {
  if (window.lucky5FocusableEquations) return;
  window.lucky5FocusableEquations = true;
  const mark = () => document.querySelectorAll('.katex-display:not([tabindex])')
      .forEach(e => e.setAttribute('tabindex', '0'));
  new MutationObserver(mark).observe(document.body, {childList: true, subtree: true});
  mark();
})();
</script>"""


def _draw(step: Step) -> None:
    st.html(prose.CSS + FOCUSABLE_EQUATIONS_JS, unsafe_allow_javascript=True)
    rule = update_rule(step)
    parts = sections(step, rule)
    text = prose.Prose()  # each title with its equations as one element
    for n, section in enumerate(parts, start=1):
        text.markdown(f"**{n}. {section.title}**")
        for equation in section.equations:
            text.latex(equation.latex)
        if section.note:  # plain text: a rule's * must not read as emphasis (3*x1 - 2*x7)
            text.caption(literal(section.note, limit=len(section.note)))
        if section.table is not None:
            text.flush()
            _draw_table(step, section.table, table(step, section.table, rule))
    text.flush()


def _texts(step: Step) -> list[str]:
    """What the step's panel writes, for its Words: the intro, the notes, the formulas (their plain spelling: lr,
    τ, μ, ∂L/∂wᵢ ...) and the tables' columns."""
    rule = update_rule(step)
    parts = sections(step, rule)
    columns = [name for s in parts if s.table is not None for name in table(step, s.table, rule)]
    formulas = [e.text for s in parts for e in s.equations]
    return [INTRO, *(f"{s.title}. {s.note}" for s in parts), *formulas, *columns]


def _draw_table(step: Step, kind: Table, columns: dict[str, torch.Tensor]) -> None:
    """A per-parameter table in full; the batch's rows folded away in an expander."""
    if kind is Table.BATCH:
        with st.expander(f"All {step.batch_size:,} rows of the batch"):
            tables.table(_frame(columns, index=None), index=True, replay=False)  # inside _drawn's own expander
        return
    if kind is Table.FORWARD and step.batch_size > 1:  # the input column holds the batch's mean
        columns = {("x̄" if name == "x" else name): value for name, value in columns.items()}
    tables.table(_frame(columns), index=True, height="content")


def _frame(columns: dict[str, torch.Tensor], index: tuple[str, ...] | None = PARAMETER_LABELS) -> pd.DataFrame:
    """A table of the exact float32 numbers (widened to float64 without rounding)."""
    return pd.DataFrame({name: value.double().numpy() for name, value in columns.items()}, index=index)
