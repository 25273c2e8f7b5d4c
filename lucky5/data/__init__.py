"""A learner's own data: a CSV file read safely into a data set to train on.

One job per module, each importing only the ones listed before it:

- ``table``: ``Data``, a data set as a frozen value (float32 features and targets, column names, a
  digest of its numbers), the layer's inputs from it (unused inputs, standardising), ``DataError``;
- ``reader``: ``read_csv``, the total reader of untrusted bytes: a ``Data`` or a ``DataError`` naming
  the reason, the line and the column.

Every public name is importable from ``lucky5.data`` itself.
"""

from .reader import MAX_BYTES, TARGET_NAMES, read_csv
from .table import MAX_FEATURES, MAX_ROWS, Data, DataError, is_digest

__all__ = ["MAX_BYTES", "MAX_FEATURES", "MAX_ROWS", "TARGET_NAMES", "Data", "DataError", "is_digest", "read_csv"]
