"""lucky5's Streamlit page: watch one linear layer learn the number 5, and see why it ignores its input.

A table of contents: the page's parts live in the ``page`` package, one job per module, and every
number they show comes from the core, ``lucky5``. Run with ``streamlit run app.py``.

One file, two roles. ``streamlit run app.py`` first imports it as a module to find its server: there it
defines ``app``, Streamlit's ASGI server with lucky5's own routes and middleware (``page.server``). Then
Streamlit runs the same file as ``__main__`` for every browser session: there it draws the page.
"""

from __future__ import annotations

import streamlit as st

if __name__ != "__main__":  # imported by `streamlit run` (or uvicorn) to find the server
    from page import server

    app = st.App(__file__, routes=server.routes(), middleware=server.middleware())
else:  # a session's run: the page, top to bottom
    from page import data as page_data
    from page import data_run, lesson, notes, offline, panels, presenter, room, runtime, scenes, sidebar, state, tools
    from page import task as page_task
    from page.step import inside_one_step

    if room.requested():  # ?join=CODE (a phone in a room) or ?room=new / ?room=CODE (the presenter's wall)
        room.page()
        st.stop()

    present = presenter.requested()
    st.set_page_config(
        page_title="lucky5",
        page_icon="🎯",
        layout="wide",
        initial_sidebar_state="collapsed" if present or presenter.embedded() else "auto",
    )
    session = state.begin()
    if presenter.embedded():  # inside a slide (?embed=true): the scene's picture alone, large
        presenter.embed(runtime.run(session.run), session.input)
        st.stop()
    panels.notices()
    sidebar.sidebar()
    if session.present:  # the scene bar's title and sentences stand in for the introduction
        if not session.notes:
            presenter.style()
        notes.follow()  # the projector's window and the speaker's keep to one scene
    if session.notes:  # the speaker's view: the scene bar, the notes and the clocks, no chart
        speaker_history = runtime.run(session.run)
        state.sync_url(session)
        scenes.bar(speaker_history, session.input)
        scenes.text(speaker_history, session.input)  # what the room reads, above what the speaker says
        notes.view(speaker_history, session.input)
        st.stop()

    if page_data.active():  # your own data: theory from its rows, the run, the network; no uniform-input panel
        data_history = page_data.run(session.run, page_data.own_data())
        state.sync_url(session)
        panels.readable_captions()
        st.title("lucky5: one neuron learns your data")
        page_task.chooser()  # the choice, then the upload, the sample, the first rows and the standardising
        data_run.verdict(data_history)
        data_run.summary(data_history)
        data_run.network(data_history)
        data_run.elsewhere()
        data_run.take_home(data_history)
        data_run.share()
        st.stop()

    # The scene bar (kept in view) and the scene's sentences, then the chart: the lesson, or in presenter mode the
    # stage (the sentences and the scene's picture, one screen) straight under the bar; the summary below it.
    bar, text, chart, top, inputs = (st.container() for _ in range(5))
    history = runtime.run(session.run)
    state.ledger_add(session, history)
    with inputs:  # drawn below the chart, but read first: the summary and the chart show this input
        x = panels.your_input()
        panels.input_breakdown(history, x)
    state.sync_url(session)
    if session.present:  # the bar first: it counts the scene entry that makes the stage's autoplay script new
        with bar:
            scenes.bar(history, x)
        with chart:
            presenter.stage(history, x)
    else:  # a scene's title and sentences stand in for the lesson's own introduction; the tour's start beside it
        with chart:
            tour = lesson.lesson(history, introduce=session.scene is None)
        with bar:
            scenes.bar(history, x, tour)
        with text:
            scenes.text(history, x)
    with top:
        panels.summary(history, x)
        if not session.present:
            panels.animation(history, x)
    panels.why_not_five(history)
    inside_one_step(history)
    tools.test_like_the_post(history)
    tools.compare(history)
    tools.take_home(history)
    offline.downloads(history, x)  # this run as one HTML file, the talk as one, and the presenter kit
    if not session.present:
        tools.share(present=False)
        room.start_control()
