"""lucky5: a one-layer network learns the number 5, and the demo shows why it ends up ignoring its input.

The package is the UI-free core behind ``app.py``:

- ``config``: the frozen ``Config`` of every setting and its URL round trip;
- ``engine``: the training loop (``train``, ``train_many``) and the recorded ``History``;
- ``theory``: closed-form facts about the expected loss;
- ``metrics``: the blog post's test loop with torchmetrics;
- ``checkpoint``: safe save and load (safetensors; nothing in a file can run);
- ``figures``: the Plotly figures the page draws (no Streamlit).
"""

from .config import Config, from_query, to_query
from .engine import History, train, train_many

__all__ = ["Config", "History", "from_query", "to_query", "train", "train_many"]
