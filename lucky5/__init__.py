"""lucky5: a one-layer network learns the number 5, and the demo shows why it ends up ignoring its input.

The package is the UI-free core behind ``app.py``:

- ``config``: the frozen ``Config`` of every setting and its URL round trip;
- ``rules``: the parser of a rule in the inputs (``Config.rule``), a target such as 5 + 3*x1 - 2*x7;
- ``engine``: the training loop (``train``, ``train_many``) and the recorded ``History``;
- ``layer``: ``Layer``, the trained layer as a value (‖w‖, its prediction, its distance to the optimum);
- ``theory``: a package, closed-form facts about the expected loss: its terms and optimum, curvature, SGD's
  limits and time constants, and what theory claims (or withholds) for one ``Config``, in words;
- ``metrics``: the blog post's test loop with torchmetrics;
- ``checkpoint``: safe save and load (safetensors; nothing in a file can run);
- ``inputs``: the one parser of typed lists of numbers, and the seed rules for inputs and spreads;
- ``step``: a package, ``explain_step``: the exact arithmetic of one optimizer step, its update rules as a table;
- ``figures``: a package, the Plotly figures the page draws (no Streamlit): style, the animation, the valley,
  comparison charts and the room's wall;
- ``narration``: one plain-words caption per animation frame, and ``near`` (enough digits to tell 4.9999 from 5);
- ``story``: this run's story in plain words, for the page and the offline file;
- ``glossary``: every term's plain meaning in one line (‖w‖, Σw, the valley, ...), for every view;
- ``export``: the history as CSV, the standalone script and the offline HTML copy;
- ``kit``: the presenter kit in one zip: the whole talk offline, and every scene's QR code, script, checkpoint, CSV;
- ``scenes``: the talk's scenes, each a ``Config`` and sentences whose numbers come from its run;
- ``notes``: the speaker's notes for each scene (what to say, what to point at, the question for the room);
- ``talk``: a package, the whole talk as one offline HTML file, and the scripts a projector's and a speaker's
  window share (``follow.js``, ``clock.js``);
- ``once``: compute once per key, a few kept, concurrent callers waiting for one build (the kit's cache);
- ``static/``: the run in JavaScript (``train.js``), for a browser that trains a run itself;
- ``room``: a package, rooms where an audience trains together: the stores, the wire format, the wall's rules;
- ``cli``: ``python -m lucky5``, the blog post's story in the terminal.
"""

from .config import Config, from_query, to_query
from .engine import History, train, train_many
from .layer import Layer
from .step import explain_step

__all__ = ["Config", "History", "Layer", "explain_step", "from_query", "to_query", "train", "train_many"]
