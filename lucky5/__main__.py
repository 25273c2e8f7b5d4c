"""``python -m lucky5``: the command line (see ``lucky5.cli``)."""

import sys

from .cli import main

sys.exit(main())
