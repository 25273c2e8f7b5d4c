"""The session's one state model and its URL round trip.

One ``State`` per session holds everything the page shows: the run on screen (a ``Config``), your
input, the ledger of past runs, and ``draft``: every setting as the sidebar last showed or the viewer
last typed it. Widgets are views of ``draft``: Streamlit forgets a keyed widget's value in any run
where the widget is not drawn (the SGD settings while Adam is chosen), so the value lives under a
key no widget owns and is handed back to the widget whenever it is drawn again.

The address bar mirrors the run: a link opens the same run, and Back/Forward move between runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from lucky5 import Config, from_query, theory, to_query
from lucky5 import scenes as talk
from lucky5.config import SETTING, SETTINGS, SettingError, ladder_walk
from lucky5.engine import History
from lucky5.inputs import default_input, parse_input

from .text import literal

PAGE_PARAMS = ("present", "x", "scene", "notes")  # the page's own URL parameters, besides the Config fields
PRESENT_ON, PRESENT_OFF = ("1", "true", "yes"), ("", "0", "false", "no")
LEDGER_SIZE = 10


@dataclass(frozen=True)
class LedgerEntry:
    """One past run of this session, with the numbers its table row shows (float64)."""

    config: Config
    final_loss: float | None
    distance_to_optimum: float
    diverged_at: int | None


@dataclass
class State:
    run: Config
    x: tuple[float, ...] | None = None  # None: the seed's default input (and no x in the link)
    present: bool = False
    notes: bool = False  # the speaker's view (present=1&notes=1): the scene's notes instead of its chart
    scene: int | None = None  # the talk's scene on screen (lucky5.scenes), if any
    draft: dict[str, Any] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    synced: dict[str, list[str]] = field(default_factory=dict)  # the query this page last saw or wrote

    @property
    def input(self) -> tuple[float, ...]:
        return self.x if self.x is not None else default_input(self.run.seed)


def get() -> State:
    state = st.session_state["state"]
    assert isinstance(state, State)
    return state


def _address_bar() -> dict[str, list[str]]:
    return {name: st.query_params.get_all(name) for name in st.query_params}


def begin() -> State:
    """The session's state, read from the URL on the first run and after Back/Forward or an edited link."""
    state = st.session_state.get("state")
    if state is None or _address_bar() != state.synced:
        state = _from_url(_address_bar(), ledger=state.ledger if state else [])
        st.session_state["state"] = state
    return state


def _link_config(params: dict[str, list[str]]) -> tuple[Config, list[str], int | None]:
    """The run a link opens (a scene's settings under the link's own), the notices, and the scene."""
    scene, problem = talk.scene_number(params.get("scene", [""])[-1])
    config, notices = from_query(talk.scene_params(scene, params) if scene else params, extra=PAGE_PARAMS)
    return config, notices + ([problem] if problem else []), scene


def _from_url(params: dict[str, list[str]], ledger: list[LedgerEntry]) -> State:
    config, notices, scene = _link_config(params)
    present = params.get("present", [""])[-1]
    if present.lower() not in PRESENT_ON + PRESENT_OFF:
        notices.append(f"Ignored present={present[:20]!r}: use present=1 for presenter mode.")
    notes = params.get("notes", [""])[-1]
    alone = notes.lower() in PRESENT_ON and present.lower() not in PRESENT_ON  # notes come with presenter mode
    if notes.lower() not in PRESENT_ON + PRESENT_OFF or alone:
        notices.append(f"Ignored notes={notes[:20]!r}: present=1&notes=1 opens the speaker's notes.")
    x = None
    if "x" in params:
        try:
            x = parse_input(params["x"][-1])
        except ValueError as err:
            notices.append(f"Ignored x: {err}")
    state = State(
        run=config,
        x=x,
        present=present.lower() in PRESENT_ON,
        notes=present.lower() in PRESENT_ON and notes.lower() in PRESENT_ON,
        scene=scene,
        ledger=ledger,
        synced=params,
        notices=[f"From the link: {literal(n)}" for n in notices],
    )
    show_settings(state, config, every=True)
    return state


# --- the settings as typed ------------------------------------------------------------------------------------------


def widget_keys(name: str) -> tuple[str, ...]:
    """The session-state keys of a setting's widgets (a pair of numbers has two)."""
    return (f"w_{name}_0", f"w_{name}_1") if SETTING[name].widget == "pair" else (f"w_{name}",)


def show_settings(state: State, config: Config, every: bool) -> None:
    """Put ``config`` in the draft and its widgets: every setting, or only those the run reads.

    Settings the run does not read (momentum while Adam runs) keep the value last typed.
    Call before the widgets are drawn (on a callback, or before the sidebar).
    """
    for s in SETTINGS:
        if every or s.optimizers is None or config.optimizer in s.optimizers:
            state.draft[s.name] = getattr(config, s.name)
            values = state.draft[s.name] if s.widget == "pair" else (state.draft[s.name],)
            for key, value in zip(widget_keys(s.name), values, strict=True):
                st.session_state[key] = value


def hand_to_widgets(state: State, names: tuple[str, ...]) -> None:
    """Give the widgets of ``names`` their value from the draft, just before they are drawn.

    Every run, not only when Streamlit forgot them: a widget that was hidden in the last run may
    still have a key in the session state while its value is gone, and would come back at its default.
    """
    for name in names:
        values = state.draft[name] if SETTING[name].widget == "pair" else (state.draft[name],)
        for key, value in zip(widget_keys(name), values, strict=True):
            st.session_state[key] = value


NO_NUMBER = "no_number"  # the session-state key naming the setting whose box was left without a number


def remember(name: str) -> bool:
    """The typed value into the draft (−/+ walk a ladder); an empty box (⊗, letters) takes the default: NO_NUMBER."""
    state = get()
    values = tuple(st.session_state[k] for k in widget_keys(name))
    st.session_state[NO_NUMBER] = name if None in values else None
    kind, old = SETTING[name].widget, state.draft.get(name)
    if None in values:  # never a ladder's step from an empty box: it is the default itself
        default = SETTING[name].default
        fill = zip(values, default if kind == "pair" else (default,), strict=True)
        state.draft[name] = tuple(d if v is None else v for v, d in fill) if kind == "pair" else default
        return True
    if kind == "ladder" and isinstance(old, float) and math.isfinite(old) and old > 0:
        values = (ladder_walk(old, values[0]),)
    state.draft[name] = values if kind == "pair" else values[0]
    return True


def apply(name: str) -> None:
    """A setting widget's on_change: the draft takes the new value and, if Config accepts the draft, it is the run.

    Settings apply at once, without a Train button. A draft Config refuses leaves the last run on screen;
    the sidebar says why, next to the setting (``draft_problem``). The widgets already hold the draft, so
    nothing is written back to them here (that would undo another widget changed in the same rerun).
    """
    if remember(name):
        _adopt_draft(get())


def set_setting(name: str, value: Any) -> None:
    """A callback of another view of one setting (the first screen's rule): like ``apply``, with its value."""
    state = get()
    state.draft[name] = value
    _adopt_draft(state)


def _adopt_draft(state: State) -> None:
    """The draft becomes the run if Config accepts it; otherwise the last run that could train stays."""
    if draft_problem(state) is None:
        state.run = draft_config(state)


def draft_problem(state: State) -> SettingError | None:
    """Why Config refuses the draft (the error names the field), or None if it can train."""
    try:
        draft_config(state)
    except SettingError as err:
        return err
    return None


def draft_config(state: State) -> Config:
    """The Config the sidebar describes: the run's settings and the chosen optimizer's own.

    Raises:
        SettingError: (a ValueError) the draft breaks one of Config's rules; it names the field.
    """
    optimizer = state.draft["optimizer"]
    values = {s.name: state.draft[s.name] for s in SETTINGS if s.optimizers is None or optimizer in s.optimizers}
    return Config(**values)


def as_read(config: Config) -> Config:
    """``config`` with the settings its optimizer does not read at their defaults (the sidebar's view of it)."""
    read = {
        s.name: getattr(config, s.name) for s in SETTINGS if s.optimizers is None or config.optimizer in s.optimizers
    }
    return Config(**read)


def start_run(config: Config, *, from_sidebar: bool = False, x: tuple[float, ...] | None = None) -> None:
    """Show ``config`` next (a callback: the sidebar is redrawn after it). ``x`` replaces a custom input."""
    state = get()
    state.run = config
    if x is not None:
        state.x = x
    show_settings(state, config, every=not from_sidebar)


# --- the URL --------------------------------------------------------------------------------------------------------


def run_query(state: State) -> dict[str, str]:
    """The link's parameters: the settings that differ from the blog post's, and your input if you changed it."""
    query = talk.scene_query(state.scene, state.run) if state.scene else to_query(state.run)
    if state.x is not None and state.x != default_input(state.run.seed):
        query["x"] = ",".join(f"{v:g}" for v in state.x)  # commas alone: a short link, a small QR code
    return query


def sync_url(state: State) -> None:
    """Keep the address bar describing the run on screen, so that it reproduces it.

    A link that already describes the run is left as it is: Streamlit adds a browser-history entry
    for every change of the query string, so rewriting a link on arrival (``?seed=0`` to the
    shorter empty query) would make the first Back show the same run again.
    """
    wanted = run_query(state)
    if state.present:
        wanted["present"] = "1"
    if state.notes:
        wanted["notes"] = "1"
    shown = _address_bar()
    if {k: v[-1] for k, v in shown.items()} == wanted or _describes(shown, state):
        state.synced = shown
        return
    st.query_params.from_dict(wanted)
    state.synced = {k: [v] for k, v in wanted.items()}


def _describes(params: dict[str, list[str]], state: State) -> bool:
    """True if ``params`` open exactly this run, input and mode, without a notice."""
    config, notices, scene = _link_config(params)
    if notices or config != state.run or scene != state.scene:
        return False
    present = params.get("present", [""])[-1].lower()
    if present not in PRESENT_ON + PRESENT_OFF or (present in PRESENT_ON) != state.present:
        return False
    notes = params.get("notes", [""])[-1].lower()
    if notes not in PRESENT_ON + PRESENT_OFF or (notes in PRESENT_ON) != state.notes:
        return False
    try:
        x = parse_input(params["x"][-1]) if "x" in params else default_input(config.seed)
    except ValueError:
        return False
    return x == state.input


def share_link(state: State) -> str:
    base = (st.context.url or "http://localhost:8501/").split("?")[0]
    query = run_query(state)
    return base + ("?" + urlencode(query, safe=",") if query else "")  # commas are fine in a query: unescaped


# --- the ledger -----------------------------------------------------------------------------------------------------


def ledger_add(state: State, history: History) -> None:
    """Put the run on screen at the top of this session's ledger (once)."""
    c = history.config
    if state.ledger and state.ledger[0].config == c:
        return
    entry = LedgerEntry(
        config=c,
        final_loss=float(history.losses[-1]) if history.steps else None,
        distance_to_optimum=history.trained.distance_to(theory.optimum_for(c)),
        diverged_at=history.diverged_at,
    )
    state.ledger = [entry, *(e for e in state.ledger if e.config != c)][:LEDGER_SIZE]
