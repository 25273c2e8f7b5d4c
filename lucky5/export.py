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

from . import figures, theory
from .config import Config, to_query
from .engine import History, optimizer_spec


def history_csv(history: History) -> str:
    """One row per epoch: the parameters before it, its loss and its gradient; a last row for the trained layer."""
    out = io.StringIO()
    cols = ["epoch", "loss", "bias"] + [f"w{i + 1}" for i in range(10)] + ["grad_bias"]
    cols += [f"grad_w{i + 1}" for i in range(10)]
    out.write(",".join(cols) + "\n")
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


def standalone_script(config: Config) -> str:
    """About 20 lines of plain PyTorch that reproduce this exact run, as the blog post wrote it.

    At batch size 1 the printed weights and bias equal ``lucky5.train(config)``'s bit for bit.
    Every setting is written as a plain Python literal, so numpy or torch scalars given to
    ``Config`` cannot leak a ``np.float64(…)`` repr into the script.
    """
    cls, kwargs = optimizer_spec(config)
    args = ", ".join([f"lr={_literal(config.lr)}"] + [f"{k}={_literal(v)}" for k, v in kwargs.items()])
    query = "&".join(f"{k}={v}" for k, v in to_query(config).items()) or "the blog post's own settings"
    return f'''"""A lucky5 run in plain PyTorch ({query}).

Same seed, optimizer, epochs and lucky number as the page: the printed weights match it.
"""
import torch
from torch import nn

torch.manual_seed({_literal(config.seed)})  # the layer's initialisation, then every input, come from this seed
model = nn.Linear(10, 1)
optimizer = torch.optim.{cls.__name__}(model.parameters(), {args})
loss_fn = nn.MSELoss()
target = torch.full(({_literal(config.batch_size)}, 1), {_literal(config.target)})  # the lucky number

for epoch in range({_literal(config.epochs)}):
    x = torch.rand({_literal(config.batch_size)}, 10)  # fresh random inputs: they carry no information
    optimizer.zero_grad()
    loss = loss_fn(model(x), target)
    loss.backward()
    optimizer.step()

print("weights:", model.weight.detach().view(-1).tolist())
print("bias:", model.bias.item())
torch.save(model.state_dict(), "lucky5_layer.pt")  # a state dict: torch.load(..., weights_only=True) reads it
'''


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
    template = plotly.io.templates[_TEMPLATES[theme]].to_plotly_json()
    spec["layout"].update(template=template, paper_bgcolor=p.background, plot_bgcolor=p.background)
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
    title = heading or f"lucky5: a layer learns {_num(c.target)}"
    intro = "".join(f"<p>{e(paragraph)}</p>" for paragraph in lead)
    numbers = "".join(f"<tr><th scope='row'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in key_numbers(history, x))
    story = "".join(f"<p>{e(paragraph)}</p>" for paragraph in story_text(history, x))
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
{story}
</body>
</html>
"""


_TEMPLATES = {"light": "plotly_white", "dark": "plotly_dark"}


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
    rows = [
        ("Lucky number (target)", _num(c.target)),
        ("Epochs trained", f"{history.steps:,}"),
        ("Bias b", _num(layer.bias, 6)),
        ("Size of the weights ‖w‖", _num(layer.norm)),
        ("Expected loss", _num(float(theory.expected_losses(history)[-1]))),
    ]
    rows += [(f"… {name}", _num(v)) for name, v in zip(figures.TERM_NAMES, terms, strict=True)]
    rows += [("Prediction for your input", _num(pred, 6)), ("Fingerprint of the trained layer", history.fingerprint())]
    if history.diverged_at is not None:
        rows.insert(2, ("Diverged at epoch", f"{history.diverged_at:,}"))
    return rows


def story_text(history: History, x: torch.Tensor) -> list[str]:
    """The run's story in a few paragraphs; every number in it is measured from ``history``."""
    c = history.config
    t = _num(c.target)
    inputs = "one fresh random input" if c.batch_size == 1 else f"{c.batch_size} fresh random inputs"
    story = [
        f"One nn.Linear(10, 1) was trained for {history.steps:,} epochs to output {t}. Each epoch it saw "
        f"{inputs} x ~ U(0, 1)^10, which say nothing about {t}.",
        f"So the best layer ignores its input: w = 0 and b = {t}. Averaged over inputs, the loss of any "
        f"layer is (0.5·Σw + b − {t})² + ‖w‖²/12, and only that layer makes it 0.",
    ]
    if history.diverged_at is not None:
        story.append(
            f"This run diverged at epoch {history.diverged_at:,}: its numbers grew past what float32 can hold and "
            "training stopped. The ✕ in the valley marks where its path left the view; a smaller learning "
            "rate keeps it inside."
        )
        return story
    all_terms = theory.loss_terms(history)
    terms = all_terms[-1].tolist()
    names = ("the average miss", "the valley term", "the weights' disagreement")
    meaning = (
        "the average prediction is still off the target",
        "Σw still stands in for part of b: the run is in the valley, short of w = 0",
        "the weights still differ from each other",
    )
    top = max(range(3), key=lambda i: terms[i])
    layer = history.trained
    pred = float(layer.predict(x))
    story.append(
        f"After {history.steps:,} epochs b = {_num(layer.bias, 6)} and the prediction for your input is "
        f"{_num(pred, 6)}. The expected loss left is {_num(sum(terms))}: average miss {_num(terms[0])}, valley "
        f"{_num(terms[1])}, disagreement {_num(terms[2])}. The largest is {names[top]}: {meaning[top]}."
    )
    # Measured, not promised: when the average miss stopped being the largest part.
    settled = (all_terms[:, 0] < all_terms[:, 1:].sum(-1)).nonzero()
    if settled.numel():
        k = int(settled[0])
        expected = theory.expected_losses(history)
        story.append(
            f"Press Play and watch the valley: by epoch {k:,} the average prediction was nearly right (the run "
            "reached the dashed green line) and the average miss no longer the largest part. From there to "
            f"epoch {history.steps:,} the expected loss went from {_num(float(expected[k]))} to "
            f"{_num(float(expected[-1]))}, along the long, thin valley toward the star at (0, {t})."
        )
    return story
