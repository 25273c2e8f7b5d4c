"""lucky5: a one-layer network learns the number 5, and the demo shows why it ends up ignoring its input.

The package is the UI-free core behind ``app.py``:

- ``config``: the frozen ``Config`` of every setting and its URL round trip;
- ``rules``: the parser of a rule in the inputs (``Config.rule``), a target such as 5 + 3*x1 - 2*x7;
- ``engine``: the training loop (``train``, ``train_many``) and the recorded ``History``;
- ``theory``: closed-form facts about the expected loss;
- ``metrics``: the blog post's test loop with torchmetrics;
- ``checkpoint``: safe save and load (safetensors; nothing in a file can run);
- ``inputs``: the one parser of typed lists of numbers, and the seed rules for inputs and spreads;
- ``step``: ``explain_step``, the exact arithmetic of one optimizer step;
- ``figures``: the Plotly figures the page draws (no Streamlit);
- ``export``: the history as CSV, the standalone script and the offline HTML copy;
- ``room``: a package, rooms where an audience trains together: the stores, the wire format, the wall's rules;
- ``cli``: ``python -m lucky5``, the blog post's story in the terminal.
"""

from .config import Config, from_query, to_query
from .engine import History, train, train_many
from .step import explain_step

__all__ = ["Config", "History", "explain_step", "from_query", "to_query", "train", "train_many"]
