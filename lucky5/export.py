"""What a learner takes home from a run: the history as CSV, a standalone PyTorch script, and the
whole run as one offline HTML file.

Text builders only; the checkpoint file itself is ``lucky5.checkpoint``'s job, and the figures are
``lucky5.figures``'s. No network, no UI.
"""

from __future__ import annotations

import html as html_module
import io
import math
from collections.abc import Sequence

import plotly.io
import torch

from . import figures, glossary, task, theory
from .config import Config, to_query
from .data import Data
from .engine import NOISE_SEED_OFFSET, History, noise_seed, optimizer_spec
from .story import story

# The header says what each row is: row k holds the parameters *before* epoch k (one optimizer step), that
# epoch's loss and gradient; the last row (k = epochs) is the trained layer, with no loss or gradient.
CSV_COLUMNS = (
    ("epoch_k", "loss_in_epoch_k", "bias_before_epoch_k")
    + tuple(f"w{i + 1}_before_epoch_k" for i in range(10))
    + ("grad_bias_in_epoch_k",)
    + tuple(f"grad_w{i + 1}_in_epoch_k" for i in range(10))
)


def history_csv(history: History) -> str:
    """The history as CSV with ``CSV_COLUMNS``: row k holds the parameters before epoch k (optimizer step k,
    counted from 0), the loss of epoch k and its gradient; the last row, k = steps, is the trained layer
    (loss and gradient empty). Numbers are the float32 record's exact values (``repr`` of each)."""
    out = io.StringIO()
    out.write(",".join(CSV_COLUMNS) + "\n")
    weights, biases = history.weights.tolist(), history.biases.tolist()
    losses, gb, gw = history.losses.tolist(), history.grad_biases.tolist(), history.grad_weights.tolist()
    for i in range(history.steps + 1):
        step = [repr(losses[i])] if i < history.steps else [""]
        grads = [repr(gb[i])] + [repr(v) for v in gw[i]] if i < history.steps else [""] * 11
        row = [str(i)] + step + [repr(biases[i])] + [repr(v) for v in weights[i]] + grads
        out.write(",".join(row) + "\n")
    return out.getvalue()


def _literal(value: object) -> str:
    """A Python literal for a setting: plain bool, int, float or a tuple of them, never a numpy or torch repr.

    Raises:
        TypeError: for any other type (Config stores only these).
    """
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"no Python literal for the non-finite setting {value!r}")
        return repr(float(value))
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    raise TypeError(f"a setting of type {type(value).__name__} has no plain Python literal")


DATA_FILE = "lucky5_data.csv"  # the name a data run's script reads its rows from (``lucky5.data.write_csv``)


def standalone_script(config: Config, data: Data | None = None) -> str:
    """About 20 lines of plain PyTorch that reproduce this exact run, as the blog post wrote it.

    With ``data`` (a run on a data set) the script reads the rows from ``DATA_FILE`` beside it, which must hold
    ``lucky5.data.write_csv(data)`` (the numbers the run trained on, standardised ones included), and picks
    each epoch's rows with ``torch.randint`` as the engine does.

    At batch size 1 the printed weights and bias equal ``lucky5.train(config)``'s bit for bit.
    Every setting is written as a plain Python literal, so numpy or torch scalars given to
    ``Config`` cannot leak a ``np.float64(…)`` repr into the script. A rule's targets are computed
    by ``Rule.python_expression`` (the engine's operations in the engine's order), and noise is
    drawn from its own generator, one ``torch.randn`` per epoch, as the engine draws it.
    """
    cls, kwargs = optimizer_spec(config)
    args = ", ".join([f"lr={_literal(config.lr)}"] + [f"{k}={_literal(v)}" for k, v in kwargs.items()])
    query = "&".join(f"{k}={v}" for k, v in to_query(config).items()) or "the blog post's own settings"
    batch = _literal(config.batch_size)
    if data is not None:
        head, draw = _data_lines(config, data)
        what = "data"
    elif config.target_rule is None and config.noise == 0:
        head = f"target = torch.full(({batch}, 1), {_literal(config.target)})  # the lucky number\n"
        draw = f"    x = torch.rand({batch}, 10)  # fresh random inputs: they carry no information\n"
        what = "lucky number"
    else:
        head, targets = _target_lines(config)
        draw = f"    x = torch.rand({batch}, 10)  # fresh random inputs\n" + targets
        what = "rule" if config.target_rule is not None else "lucky number"
    return f'''"""A lucky5 run in plain PyTorch ({query}).

Same seed, optimizer, epochs and {what} as the page: the printed weights match it.
"""
import torch
from torch import nn

torch.manual_seed({_literal(config.seed)})  # the layer's initialisation, then every input, come from this seed
model = nn.Linear(10, 1)
optimizer = torch.optim.{cls.__name__}(model.parameters(), {args})
loss_fn = nn.MSELoss()
{head}
for epoch in range({_literal(config.epochs)}):
{draw}    optimizer.zero_grad()
    loss = loss_fn(model(x), target)
    loss.backward()
    optimizer.step()

print("weights:", model.weight.detach().view(-1).tolist())
print("bias:", model.bias.item())
torch.save(model.state_dict(), "lucky5_layer.pt")  # a state dict: torch.load(..., weights_only=True) reads it
'''


def _data_lines(config: Config, data: Data) -> tuple[str, str]:
    """The script's lines before the loop (read the rows) and inside it (pick a batch, its targets, noise)."""
    batch = _literal(config.batch_size)
    head = (
        f"rows = open({DATA_FILE!r}, encoding='utf-8').read().splitlines()[1:]  # after the header\n"
        "table = torch.tensor([[float(v) for v in row.split(',')] for row in rows if row])\n"
        f"inputs = torch.zeros(len(table), 10)  # the data's {data.width} features; any other input stays 0\n"
        "inputs[:, : table.shape[1] - 1] = table[:, :-1]\n"
        "targets = table[:, -1:]  # the last column\n"
    )
    noise_head, noise_lines = _target_lines(config) if config.noise > 0 else ("", "")
    lines = f"    picked = torch.randint(len(table), ({batch},))  # rows of your data, drawn with replacement\n"
    lines += "    x, target = inputs[picked], targets[picked]\n"
    lines += "".join(line + "\n" for line in noise_lines.splitlines() if "randn" in line)
    return head + noise_head, lines


def _target_lines(config: Config) -> tuple[str, str]:
    """The script's lines before the loop and inside it that make a rule's or a noisy run's targets."""
    rule = config.target_rule
    batch = _literal(config.batch_size)
    head = ""
    if config.noise > 0:
        seed = noise_seed(config.seed)
        head = (
            f"noise = torch.Generator().manual_seed({seed})  # the noise's own stream: seed + {NOISE_SEED_OFFSET:#x}, "
            "mod 2**32\n"
        )
    if rule is not None:
        lines = f"    target = {rule.python_expression('x')}  # the rule: {rule.text}\n"
    else:
        lines = f"    target = torch.full(({batch}, 1), {_literal(config.target)})  # the lucky number\n"
    if config.noise > 0:
        lines += (
            f"    target = target + {_literal(config.noise)} * torch.randn({batch}, 1, generator=noise)"
            "  # Gaussian noise\n"
        )
    return head, lines


# --- the offline copy ---------------------------------------------------------------------------

MAX_HTML_BYTES = 6_000_000  # a USB stick or an e-mail: Plotly's own bundle is most of it


def html(
    history: History,
    x: torch.Tensor,
    *,
    theme: str = "light",
    heading: str | None = None,
    lead: Sequence[str] = (),
) -> str:
    """This run as one self-contained HTML document: the animation (with the valley), the key
    numbers and the story, playable from a ``file://`` URL with no network at all.

    Plotly's JavaScript is inlined from the installed ``plotly`` package (``include_plotlyjs=True``),
    so the document references no script, stylesheet or font elsewhere. ``x`` is the input whose
    prediction the animation follows, shape (10,). ``heading`` replaces the title (a talk's scene names
    itself) and ``lead`` adds paragraphs under it. Every interpolated text is HTML-escaped.
    Returns a ``str`` of at most ``MAX_HTML_BYTES`` bytes in UTF-8.

    Raises:
        ValueError: for an unknown ``theme`` (see ``figures.THEMES``).
    """
    p = figures.palette(theme)
    spec = figures.animation(history, x, theme=theme)
    spec["layout"].update(offline_layout(theme))
    chart = plotly.io.to_html(
        spec,
        full_html=False,
        include_plotlyjs=True,
        auto_play=False,
        validate=False,  # built by figures.animation; validating 300 frames again only costs time
        default_width="100%",
        div_id="lucky5-animation",  # a fixed id: the same run gives the same file, byte for byte
        # No mode bar: on a phone it covers the Play buttons, and the axes are fixed for playback anyway.
        config={"displayModeBar": False, "responsive": True},
    )
    c = history.config
    e = html_module.escape
    title = heading or f"lucky5: a layer learns {_target_text(c)}"
    intro = "".join(f"<p>{e(paragraph)}</p>" for paragraph in lead)
    numbers = "".join(f"<tr><th scope='row'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in key_numbers(history, x))
    told = story(history, x)
    paragraphs = "".join(f"<p>{e(paragraph)}</p>" for paragraph in told)
    labels = [label for label, _ in key_numbers(history, x)]
    words = "".join(
        f"<dt>{e(term.name)}</dt><dd>{e(term.meaning)}</dd>" for term in glossary.terms_in([*labels, *told])
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<style>
body {{ margin: 0 auto; max-width: 1100px; padding: 1rem; font: 17px/1.5 system-ui, sans-serif;
       background: {p.background}; color: {p.button_text}; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ text-align: left; padding: 0.2rem 1rem 0.2rem 0; vertical-align: top; }}
th {{ font-weight: 600; }}
</style>
</head>
<body>
<h1>{e(title)}</h1>
{intro}
<p>{e(settings_line(c))}</p>
<h2>The run, epoch by epoch</h2>
{chart}
<h2>Key numbers</h2>
<table>{numbers}</table>
<h2>What happened</h2>
{paragraphs}
<h2>Words</h2>
<dl>{words}</dl>
</body>
</html>
"""


_TEMPLATES = {"light": "plotly_white", "dark": "plotly_dark"}


def offline_layout(theme: str) -> dict:
    """What a figure's layout needs outside the page, where Streamlit's theme is missing: Plotly's template of
    the theme and the theme's background (``figures.palette``) behind the paper and the plot.

    Raises:
        ValueError: for an unknown ``theme`` (see ``figures.THEMES``).
    """
    p = figures.palette(theme)
    template = plotly.io.templates[_TEMPLATES[theme]].to_plotly_json()
    return {"template": template, "paper_bgcolor": p.background, "plot_bgcolor": p.background}


def _num(value: float, digits: int = 4) -> str:
    """A number for text: ``digits`` significant digits, a real minus sign, ``inf``/``nan`` spelled out."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}".replace("-", "−")


def settings_line(config: Config) -> str:
    """The run's settings in words, e.g. "SGD, lr 0.01, momentum 0.1, …, 200 epochs, batch size 1, seed 0"."""
    cls, kwargs = optimizer_spec(config)
    parts = [cls.__name__, f"lr {config.lr:g}"]
    parts += [
        f"{k.replace('_', ' ')} {('on' if v else 'off') if isinstance(v, bool) else _literal(v)}"
        for k, v in kwargs.items()
    ]
    parts += [f"{config.epochs} epochs", f"batch size {config.batch_size}", f"seed {config.seed}"]
    return ", ".join(parts)


def key_numbers(history: History, x: torch.Tensor) -> list[tuple[str, str]]:
    """(label, value) pairs of the run's end state, all measured from ``history`` (float64)."""
    c = history.config
    terms = theory.loss_terms(history)[-1].tolist()
    layer = history.trained
    pred = float(layer.predict(x))
    fit = theory.least_squares(c)
    size = (
        ("Size of the weights ‖w‖", _num(layer.norm))
        if c.target_rule is None  # a rule's weights head for its best layer's a, not for 0
        else ("Distance to the best weights ‖w − a‖", _num(float(torch.linalg.vector_norm(layer.weight - fit.weight))))
    )
    rows = [
        ("Lucky number (target)", _num(c.target)) if c.target_rule is None else ("Rule (target)", c.rule),
        ("Epochs trained", f"{history.steps:,}"),
        ("Bias b", _num(layer.bias, 6)),
        size,
        ("Expected loss", _num(float(theory.expected_losses(history)[-1]))),
    ]
    rows += [(f"… {name}", _num(v)) for name, v in zip(figures.term_names(c), terms, strict=True)]
    if fit.floor > 0:
        rows.append((f"… {task.floor_text(fit.unfit, fit.noise_variance, numbers=False)}", _num(fit.floor)))
    if c.noise > 0:
        rows.insert(1, ("Noise on every target σ", _num(c.noise)))
    rows += [("Prediction for your input", _num(pred, 6)), ("Fingerprint of the trained layer", history.fingerprint())]
    if history.diverged_at is not None:
        rows.insert(2, ("Diverged at epoch", f"{history.diverged_at:,}"))
    return rows


def _target_text(config: Config) -> str:
    """What the layer learns, for a title: the lucky number, or the rule (with its noise)."""
    what = _num(config.target) if config.target_rule is None else config.rule
    return what + (f" (with noise σ = {_num(config.noise)})" if config.noise > 0 else "")
