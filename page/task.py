"""What the network must learn, chosen on the first screen: the lucky number, a hidden rule, a rule with noise,
a rule one neuron cannot learn (``lucky5.task``) or your own data (``page.data``, a file: no setting of its own).

The choice is no state of its own: the kind is read from the run's ``Config`` (its ``rule`` and ``noise``), and
the rule's box and the noise's box are two more views of the session's draft settings (``page.state``), like
the sidebar's. A change applies at once; a rule the parser refuses stays in its box with the parser's message
(where and what was expected, shown literally) and the page keeps the last run that could train.
"""

from __future__ import annotations

import streamlit as st

from lucky5 import task
from lucky5.rules import MAX_RULE_CHARS

from . import data as page_data
from . import state as page_state
from .text import literal

OWN = "Type your own rule"
KIND, EXAMPLE, RULE, NOISE = "task_kind", "task_example", "task_rule", "task_noise"
_TYPING = "task_typing"  # the viewer chose to type a rule: keep the box open even when it holds an example
_EMPTIED = "task_emptied"  # the rule the viewer emptied the box of: kept, and said so, rather than a silent switch


def chooser() -> None:
    """The choice of what to learn, with the rule (an example or typed) and the noise where the kind has them."""
    state = page_state.get()
    kind = page_data.KIND if page_data.active() else task.kind_of(state.run)
    rule, noise = state.draft.get("rule", state.run.rule), state.draft.get("noise", state.run.noise)
    st.session_state[KIND] = kind
    st.selectbox(
        "What the network must learn",
        (*task.KINDS, page_data.KIND),
        key=KIND,
        format_func=lambda k: task.KINDS.get(k, page_data.KIND_NAME),
        on_change=_choose_kind,
        help="The lucky number is the blog post's target. A rule makes the target a function of the inputs. "
        "Your own data: a CSV file's rows are the inputs and the target.",
    )
    if kind == page_data.KIND:
        page_data.panel()
        return
    if kind == task.LUCKY:
        return
    examples = task.EXAMPLES[kind]
    typing = st.session_state.get(_TYPING) or rule not in examples
    st.session_state[EXAMPLE] = OWN if typing else rule
    st.session_state[RULE] = rule
    st.selectbox(
        "The rule",
        (*examples, OWN),
        key=EXAMPLE,
        on_change=_pick_example,
        format_func=_as_rule,
        # A learner types into this box as readily as into the one below: what they type and enter is a rule too.
        accept_new_options=True,
        # In code quotes: help is Markdown, and bare asterisks would italicise x1 and hide the * to type.
        help="Pick an example, or type a rule here and press Enter (such as `4 + 2*x1*x2`).",
    )
    if typing:
        st.text_input(
            "Your rule: y =",
            key=RULE,
            max_chars=MAX_RULE_CHARS,
            on_change=_typed_rule,
            placeholder="5 + 3*x1 - 2*x7",
            help="Numbers, x1 … x10, +, −, * and squares (x3^2); at most two inputs multiplied in one term.",
        )
    if kind == task.NOISY:
        st.session_state[NOISE] = noise
        st.number_input("Noise σ on every target", key=NOISE, step=0.1, format="%g", on_change=_typed_noise)
    if (kept := st.session_state.get(_EMPTIED)) is not None:
        st.error(
            literal(
                f"An empty rule is no rule, so this cannot train. The page keeps y = {kept}; to learn the lucky "
                "number instead, choose it above.",
                limit=MAX_RULE_CHARS + 200,
            )
        )
    _refusal(state)


def _as_rule(option: str) -> str:
    return option if option == OWN else f"y = {option}"


def _refusal(state: page_state.State) -> None:
    """The parser's (or Config's) reason, shown as typed, when the rule or the noise cannot train."""
    problem = page_state.draft_problem(state)
    if problem is not None and problem.name in ("rule", "noise"):
        kept = f"keeps the last rule that could train, y = {state.run.rule}" if state.run.rule else "keeps the last run"
        st.error(literal(f"This cannot train: {problem}. The page {kept}.", limit=2 * MAX_RULE_CHARS + 300))


def _choose_kind() -> None:
    state = page_state.get()
    st.session_state[_TYPING] = False
    st.session_state[_EMPTIED] = None
    chosen = st.session_state[KIND]
    if chosen == page_data.KIND:  # the data bring their own target: the run keeps every setting but the rule
        page_data.choose(True)
        page_state.start_run(task.choose(state.run, task.LUCKY).replace(noise=0.0), from_sidebar=True)
        return
    page_data.choose(False)
    page_state.start_run(task.choose(state.run, chosen), from_sidebar=True)


def _pick_example() -> None:
    """An example applies at once; text typed into this box and entered is a rule typed, as in the box below."""
    chosen = st.session_state[EXAMPLE]
    examples = task.EXAMPLES.get(task.kind_of(page_state.get().run), ())
    typed = chosen is not None and chosen != OWN and chosen not in examples
    st.session_state[_TYPING] = chosen == OWN or typed
    st.session_state[_EMPTIED] = None
    if typed:
        _apply_typed(str(chosen))
    elif chosen is not None and chosen != OWN:
        page_state.set_setting("rule", chosen)


def _typed_rule() -> None:
    """Apply the typed rule; an empty box that would turn the kind into another (the lucky number) is refused:
    choosing what to learn is the choice above, never a side effect of a cleared box."""
    _apply_typed(st.session_state[RULE])


def _apply_typed(typed: str) -> None:
    state = page_state.get()
    emptied = not typed.strip() and task.kind_of(state.run.replace(rule="")) != task.kind_of(state.run)
    st.session_state[_EMPTIED] = state.run.rule if emptied else None
    if not emptied:
        page_state.set_setting("rule", typed)


def _typed_noise() -> None:
    page_state.set_setting("noise", st.session_state[NOISE])
