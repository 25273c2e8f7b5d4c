"""``python -m lucky5``: the command line (see ``lucky5.cli``)."""

from .cli import PROG, run

run(prog=PROG)
