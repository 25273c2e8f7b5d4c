"""The reveal of a stage's question: the chart of the votes beside the runs (``figures.votes_figure``) and what
a phone is told of a vote (``room.asked``, ``room.question_info``).

Oracles: the counts handed in, ``Question.outcome`` of real runs (``train_many``), and WCAG 2.2's contrast
formula (``tests.test_figures.contrast``).
"""

from __future__ import annotations

import pytest

from lucky5 import train_many
from lucky5.figures import votes_figure
from lucky5.figures.votes import STAR
from lucky5.room import QUESTIONS, STAGES, MemoryStore, asked, question_info, summarize
from lucky5.room.votes import VOTE_FIRST
from tests.test_figures import BACKGROUNDS, contrast


@pytest.fixture(scope="module")
def post_runs():
    return [summarize(h) for h in train_many(STAGES["post"].config(0), seeds=range(12))]


def _bars(fig) -> dict[str, list[int]]:
    return {t.name: [int(v) for v in t.x] for t in fig.data if t.type == "bar"}


@pytest.mark.parametrize("rounds", [1, 2])
def test_the_chart_draws_each_rounds_votes_and_the_runs_per_choice_in_order(post_runs, rounds: int) -> None:
    q = QUESTIONS["post"]
    counts = ((0, 2, 1, 0, 0, 0), (0, 3, 0, 0, 0, 0))
    outcome = q.outcome(post_runs)
    fig = votes_figure(q, counts, rounds, outcome, q.theory(), "light")
    bars = _bars(fig)
    expected = {"first vote": list(counts[0]), "runs": list(outcome.counts)}
    if rounds == 2:
        expected["second vote"] = list(counts[1])
    assert bars == expected and sum(outcome.counts) == len(post_runs) == 12
    # one row per choice, in the question's order; what the runs bore out in bold, theory's picks starred
    labels = [t for t in fig.data if t.type == "bar"][0].y
    plain = [lab.replace("<b>", "").replace("</b>", "").replace("<br>", " ") for lab in labels]
    assert [lab.removeprefix(f"{STAR} ") for lab in plain] == [c.text for c in q.choices]
    bold = {c.id for c, lab in zip(q.choices, labels, strict=True) if lab.startswith("<b>")}
    assert bold == outcome.happened == {"1-2"}  # 200 epochs: the room's median b is in 1 to 2, as theory says
    starred = {c.id for c, lab in zip(q.choices, plain, strict=True) if lab.startswith(STAR)}
    assert starred == q.theory().choices == {"1-2"}


def test_choices_that_look_like_numbers_are_rows_like_the_others() -> None:
    # Left to Plotly, "0.01" ... "0.4" beside "none of them" made a numeric axis: "none" and some rates vanished.
    q = QUESTIONS["lr"]
    n = len(q.ids)
    fig = votes_figure(q, (tuple(range(n)), (0,) * n), 1, q.outcome([]), q.theory(), "light")
    assert fig.layout.yaxis.type == "category" and fig.layout.yaxis2.type == "category"
    labels = [t for t in fig.data if t.type == "bar"][0].y
    assert len(set(labels)) == n and list(fig.layout.yaxis.categoryarray) == list(labels)


def test_each_rate_says_how_many_runs_tried_it_so_an_untried_rate_does_not_read_as_safe() -> None:
    """At a rate no phone tried the bar of runs that blew up is empty, like a rate where none blew up: the text
    beside it tells them apart ("no run" / "0 of 2"). Oracle: the runs themselves (``diverged_at``)."""
    q, stage = QUESTIONS["lr"], STAGES["lr"]
    tried = {0.05: (1, 2), 0.4: (3, 4)}
    runs = [summarize(h) for lr, seeds in tried.items() for h in train_many(stage.config(0, lr), seeds=seeds)]
    fig = votes_figure(q, ((0,) * len(q.ids),), 1, q.outcome(runs), q.theory(), "light")
    (bar,) = [t for t in fig.data if t.type == "bar" and t.name == "runs that blew up"]
    said = dict(zip(q.ids, bar.text, strict=True))
    for lr, seeds in tried.items():
        blew = sum(r.diverged_at is not None for r in runs if r.lr == lr)
        assert said[f"{lr:g}"] == f"{blew} of {len(seeds)}"
    assert said["0.05"] == "0 of 2" and said["0.4"] == "2 of 2"
    assert all(said[i] == "no run" for i in q.ids if i not in ("0.05", "0.4", q.alone)) and said[q.alone] == ""
    post = QUESTIONS["post"]  # other questions keep plain bars
    plain = votes_figure(post, ((0,) * len(post.ids),), 1, post.outcome([]), post.theory(), "light")
    assert all(t.text is None for t in plain.data if t.type == "bar")


def test_counts_of_another_length_are_refused() -> None:
    q = QUESTIONS["patience"]
    with pytest.raises(ValueError, match="one per choice"):
        votes_figure(q, ((1, 2, 3), (0, 0, 0)), 1, q.outcome([]), q.theory(), "dark")
    with pytest.raises(ValueError):
        votes_figure(q, ((1, 2),), 2, q.outcome([]), q.theory(), "dark")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_bar_has_3_to_1_contrast(theme: str) -> None:
    checked = 0
    for q in QUESTIONS.values():
        n = len(q.ids)
        fig = votes_figure(q, ((1,) * n, (2,) * n), 2, q.outcome([]), q.theory(), theme)
        for trace in fig.data:
            for colour in (trace.marker.color, trace.marker.line.color):
                assert contrast(colour, BACKGROUNDS[theme]) >= 3.0, (q.stage, trace.name, colour)
                checked += 1
    assert checked == 3 * 3 * 2  # three questions, two rounds and the runs, fill and edge


def test_a_phone_is_told_the_question_and_the_votes_state_never_the_votes() -> None:
    store = MemoryStore()
    code, key = store.create()
    people = [store.join(code) for _ in range(3)]
    store.vote(code, key, "post", "open")
    for p in people:
        store.cast(code, p, "post", "1-2")
    told = asked(store.poll(code, "post"))
    assert told == {"stage": "post", "round": 1, "open": True, "skipped": False, "revealed": False, "train": VOTE_FIRST}
    store.vote(code, key, "post", "reveal")
    assert "counts" not in asked(store.poll(code, "post")) and asked(store.poll(code, "post"))["revealed"]
    info = question_info(QUESTIONS["lr"])
    assert info["choices"][-1] == ["none", "none of them"] and info["alone"] == "none"
    assert [c[0] for c in info["choices"]] == list(QUESTIONS["lr"].ids) and info["most"] == QUESTIONS["lr"].most


def test_every_reveal_fits_a_1280_by_720_wall_with_its_text_at_the_walls_size() -> None:
    """Brought into view under Streamlit's header, the chart must fit the 720 px left of a 1280×720 wall (the
    browser test measures it there); every text of it stays at the wall's projector size, however many rows."""
    from lucky5.figures.votes import MAX_HEIGHT
    from lucky5.figures.wall import WALL_FONT

    header = 60  # Streamlit's header bar, above the scrolled chart
    for q in QUESTIONS.values():
        n = len(q.ids)
        for rounds in (1, 2):
            fig = votes_figure(q, ((1,) * n, (2,) * n), rounds, q.outcome([]), q.theory(), "light")
            assert fig.layout.height <= MAX_HEIGHT <= 720 - header, (q.stage, rounds, fig.layout.height)
            assert fig.layout.legend.font.size == WALL_FONT
            for axis in (fig.layout.xaxis, fig.layout.xaxis2, fig.layout.yaxis):
                assert axis.tickfont.size == WALL_FONT, (q.stage, axis.tickfont)
    lr = QUESTIONS["lr"]
    n = len(lr.ids)  # eight rates and "none of them": two rounds of them would outgrow the wall without the cap
    assert votes_figure(lr, ((1,) * n,) * 2, 2, lr.outcome([]), lr.theory(), "dark").layout.height == MAX_HEIGHT
