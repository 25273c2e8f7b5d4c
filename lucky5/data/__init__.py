"""A learner's own data: a CSV file read safely into a data set to train on.

One job per module, each importing only the ones listed before it:

- ``table``: ``Data``, a data set as a frozen value (float32 features and targets, column names, a
  digest of its numbers), the layer's inputs from it (unused inputs), standardising, a data set drawn
  from a rule (``from_rule``), ``DataError``;
- ``reader``: ``read_csv``, the total reader of untrusted bytes: a ``Data`` or a ``DataError`` naming
  the reason, the line and the column; ``write_csv``, a data set as a file it reads back; ``sample_csv``,
  a sample file to download.

Every public name is importable from ``lucky5.data`` itself.
"""

from .reader import MAX_BYTES, SAMPLE_RULE, TARGET_NAMES, read_csv, sample_csv, write_csv
from .table import MAX_FEATURES, MAX_ROWS, Data, DataError, from_rule, is_digest

__all__ = [
    "MAX_BYTES",
    "MAX_FEATURES",
    "MAX_ROWS",
    "SAMPLE_RULE",
    "TARGET_NAMES",
    "Data",
    "DataError",
    "from_rule",
    "is_digest",
    "read_csv",
    "sample_csv",
    "write_csv",
]
