"""The settings sidebar: widgets generated from ``lucky5.config.SETTINGS``, presets, and the stability gauge.

Each widget is a view of the session's draft settings (``state``): it is given the draft's value when
drawn and writes what the viewer types back to it, so a setting keeps its value while its widget is
hidden (another optimizer's settings). Every change applies at once: the draft becomes the run
(``state.apply``) unless Config refuses it, which is said under the setting. A preset or New seed
start a run from a callback too.
"""

from __future__ import annotations

import math
import secrets
from typing import Any

import streamlit as st

from lucky5 import Config, theory
from lucky5.config import OPTIMIZER_FIELDS, OPTIMIZER_NAMES, SETTING, SETTINGS, Setting, SettingError, ladder
from lucky5.data import Data
from lucky5.narration import share_of
from lucky5.rules import MAX_RULE_CHARS

from . import data as page_data
from . import state as page_state
from . import words
from .text import literal

PRESETS: dict[str, dict] = {
    "The blog post": {},
    "Too fast: it diverges": {"lr": 0.5},
    "Patience: 20,000 epochs": {"epochs": 20_000},
    "Adam": {"optimizer": "adam", "lr": 0.05, "epochs": 2_000},
    "Big batches: less noise": {"batch_size": 64, "epochs": 2_000, "lr": 0.05},
}
RUN_SETTINGS = tuple(s.name for s in SETTINGS if s.optimizers is None)
# What a learner turns first, in view without scrolling at 1440x900; the rest of the run's settings fold away.
MAIN_SETTINGS = ("epochs", "optimizer", "lr", "seed", "target")
MORE_SETTINGS = tuple(name for name in RUN_SETTINGS if name not in MAIN_SETTINGS)
MORE_KEY = "more_settings"  # the folded group's expander, and its open state in the session
_OWN_DATA_UNUSED = (
    "Not used now: your data bring their own targets. Choose the lucky number or a rule under "
    "'What the network must learn' to use it."
)


def sidebar() -> None:
    """Draw the settings: a change applies at once (``state.apply``); why Config refuses a draft, beside its field."""
    state = page_state.get()
    sb = st.sidebar
    sb.header("Settings")
    sb.caption("Every change trains at once; a run seen before comes from the cache.")
    sb.selectbox(
        "Preset",
        ["—", *PRESETS],
        key="preset",
        on_change=_apply_preset,
        help="A ready-made set of settings: choosing one fills them all in and trains.",
    )
    problem = page_state.draft_problem(state)
    page_state.hand_to_widgets(state, RUN_SETTINGS)
    own_data = page_data.active()
    with sb:
        for name in MAIN_SETTINGS:
            _setting(name, problem, state.run, own_data)
        _open_when_it_matters(MORE_KEY, _more_matters(state.draft, problem))
        more = st.expander("Rule, noise and batch size", key=MORE_KEY, on_change="rerun")
        if more.open:  # a closed group sends its title alone; its widgets are drawn once it is opened
            with more:
                for name in MORE_SETTINGS:
                    _setting(name, problem, state.run, own_data)
        optimizer = state.draft["optimizer"]
        own = OPTIMIZER_FIELDS[optimizer]
        page_state.hand_to_widgets(state, own)
        key = f"{optimizer}_settings"
        _open_when_it_matters(key, problem is not None and problem.name in own)
        folded = st.expander(f"{OPTIMIZER_NAMES[optimizer]} settings", key=key, on_change="rerun")
        if folded.open:
            with folded:
                for name in own:
                    _widget(SETTING[name])
                    _refusal(problem, name)
    if problem is None:
        stability_gauge(state.run, page_data.current())


def _more_matters(draft: dict[str, Any], problem: SettingError | None) -> bool:
    """Whether a link, a preset or a refusal made one of the folded run settings matter."""
    changed = any(draft[name] != SETTING[name].default for name in MORE_SETTINGS)
    return changed or (problem is not None and problem.name in MORE_SETTINGS)


def _open_when_it_matters(key: str, matters: bool) -> None:
    """Open the folded group ``key`` when what it holds comes to matter (``matters`` turns true), so no setting
    that differs or is refused is hidden; after that it is the learner's: it must not fold under the learner
    who sets one back to its default, nor stay open against their click while it still matters."""
    seen = f"{key}_mattered"
    if matters and not st.session_state.get(seen, False):
        st.session_state[key] = True  # before the expander is drawn: its state, as if the learner had opened it
    st.session_state[seen] = matters


def _setting(name: str, problem: SettingError | None, run: Config, own_data: bool = False) -> None:
    """One run setting's widget (the seed's with New seed beside it), and Config's refusal under it. The lucky
    number is greyed out, with the reason, while a rule is the target, and it and the rule are while the run is
    on the viewer's own data (the file brings the targets): they change nothing then."""
    if own_data and name in ("target", "rule"):
        _widget(SETTING[name], unused=_OWN_DATA_UNUSED)
        st.caption("Not used: your data bring their own targets.")
    elif name == "target" and (rule := run.target_rule) is not None:
        reason = (
            f"Not used now: the target is the rule y = {rule.text}. Choose the lucky number under "
            "'What the network must learn' to use it."
        )
        _widget(SETTING[name], unused=reason)
        st.caption(literal(f"Not used: the target is the rule y = {rule.text}.", limit=MAX_RULE_CHARS + 60))
    elif name == "seed":
        c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
        with c1:
            _widget(SETTING[name])
        c2.button("New seed", on_click=_new_seed, help="Draw another seed and train.")
    else:
        _widget(SETTING[name])
    _refusal(problem, name)


def _refusal(problem: SettingError | None, name: str) -> None:
    """Right under the setting Config refuses: why, and that the page still shows the last run that could train;
    or that its box was left without a number, and what it holds again."""
    if problem is not None and problem.name == name:
        st.error(f"These settings cannot train: {literal(problem)}. The page shows the last run that could.")
    elif st.session_state.get(page_state.NO_NUMBER) == name:  # its box was left empty or held letters
        s = SETTING[name]
        value = page_state.get().draft[name]
        shown = ", ".join(f"{v:g}" for v in value) if isinstance(value, tuple) else f"{value:g}"
        st.error(
            f"{s.label} takes a number, written with digits (such as {_example(s)}); letters or an empty box "
            f"(⊗ empties it) are not one. It is back at {shown}, the blog post's value, and the page shows that run."
        )


def _example(s: Setting) -> str:
    """A number a setting's box takes, as a reader would type it."""
    default = s.default[0] if s.widget == "pair" else s.default
    return {"lr": "0.01 or 1e-3", "target": "5 or 42"}.get(s.name, f"{default:g}")


def _widget(s: Setting, unused: str | None = None) -> None:
    """The widget of one setting, keyed ``w_<name>`` (a pair: ``w_<name>_0`` and ``_1``), as the table says;
    disabled, with ``unused`` as its help, when the run does not read it."""
    keys = page_state.widget_keys(s.name)
    # What every widget shares: its help, and applying what the viewer types at once.
    named = (s.label, *OPTIMIZER_NAMES.values()) if s.widget == "select" else (s.label,)
    common: dict[str, Any] = {
        "help": words.with_meanings(s.help, *named, s.help) if unused is None else literal(unused, limit=len(unused)),
        "on_change": page_state.apply,
        "args": (s.name,),
        "disabled": unused is not None,
    }
    if s.widget == "select":
        st.selectbox(s.label, OPTIMIZER_NAMES, key=keys[0], format_func=OPTIMIZER_NAMES.__getitem__, **common)
    elif s.widget == "checkbox":
        st.checkbox(s.label, key=keys[0], **common)
    elif s.widget == "text":
        st.text_input(s.label, key=keys[0], max_chars=MAX_RULE_CHARS, **common)
    else:
        # No widget bounds: a box with bounds refuses a value past them without a word (a seed past 2³² − 1 just
        # does not take), and would silently clamp a link's value, while Config says in words what is wrong
        # (shown under the setting). value=None: an emptied box, or letters, arrive as None, not as the box's
        # default 0, which a ladder's − would read as one rung down (``state.remember`` refuses it instead).
        common.update(value=None, step=_step(s, st.session_state[keys[0]]), format=s.format)
        labels = (s.parts or (f"{s.label} 1", f"{s.label} 2")) if s.widget == "pair" else (s.label,)
        for label, key in zip(labels, keys, strict=True):
            st.number_input(label, key=key, **common)


def _step(s: Setting, value: Any) -> Any:
    """The box's −/+ step: the table's, or on a ladder the gap to the next rung up (− walks down: ``ladder_walk``)."""
    if s.widget == "ladder" and isinstance(value, float) and math.isfinite(value) and value > 0:
        return float(f"{ladder(value)[1] - value:.12g}")  # 0.03, not 0.030000000000000002
    return s.step


def _apply_preset() -> None:
    name = st.session_state.preset
    if name in PRESETS:
        page_state.start_run(Config(seed=page_state.get().run.seed, **PRESETS[name]))


def _new_seed() -> None:
    state = page_state.get()
    try:
        config = page_state.draft_config(state).replace(seed=secrets.randbelow(1_000_000))
    except ValueError as err:
        state.notices = [f"No new seed: these settings cannot train ({literal(err)})."]
        return
    state.x = None  # the new seed's own default input
    page_state.start_run(config, from_sidebar=True)


def stability_gauge(config: Config, data: Data | None = None) -> None:
    """Before training: the learning rate against the largest one at which this run still settles (on ``data``'s
    rows, for a run on the viewer's own data)."""
    sb = st.sidebar
    gauge = theory.stability(config) if data is None else page_data.stability(config, data)
    # The (?) every setting has: what the limit is, in the glossary's words.
    help_text = words.meanings("stability limit", "learning rate")
    if gauge.ratio is None or gauge.limit is None:
        note = gauge.note or ""
        said = f"Stability: {note}" if note.startswith(gauge.verdict) else f"Stability: {gauge.verdict}. {note}"
        sb.caption(said, help=help_text)
        return
    with sb.container(key="stability"):
        st.caption(
            f"Stability: lr is {share_of(gauge.ratio, 'the limit')} ≈ {gauge.limit:.3g}, the largest learning "
            f"rate that does not blow up ({gauge.verdict})",
            help=help_text,
        )
        st.progress(min(1.0, gauge.ratio))
    if gauge.note:
        sb.caption(gauge.note)
