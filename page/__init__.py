"""lucky5's Streamlit page, one job per module; ``app.py`` at the repository root lists the panels in order.

- ``runtime``: once per process (torch threads, a frozen GC, the training lock) and the caches of core calls;
- ``text``: the one helper that shows outside text literally, never as Markdown;
- ``state``: the session's one state model (the run on screen, your input, the ledger, the settings as typed)
  and its URL round trip;
- ``sidebar``: the settings, generated from ``lucky5.config.SETTINGS``, presets and the stability gauge;
- ``panels``: the run itself: summary, animation, your input, why not exactly 5;
- ``tools``: what a learner does with a run: test it, compare it, take it home, share it;
- ``step``: "Inside one step", the arithmetic of one optimizer step drawn from ``lucky5.step``'s sections;
- ``scenes``: the talk's scenes and the guided tour: the scene bar (kept in view), the sentences, Back and Next;
- ``pictures``: a scene's picture at projector scale: the animation, the loss's three parts, one step's arithmetic;
- ``presenter``: presenter mode's stage (the scene on one screen), its keys and autoplay, and a slide's embedding;
- ``notes``: the speaker's view (``present=1&notes=1``) and the link that keeps it and the projector on one scene;
- ``offline``: the downloads for a talk without a network (this run, the whole talk, the presenter kit), cached;
- ``server``: a package, what lucky5 adds to Streamlit's web server (``st.App``'s routes and middleware);
- ``room``: a package, the room pages: a phone in a room, the presenter's wall and the links between them.

Imports point one way: ``app.py`` → ``page`` → ``lucky5``. The core never imports this package or
Streamlit; everything a learner must trust is computed there.
"""
