"""Closed-form facts about the lucky5 problem: what training *should* do, computed without training.

The setting is the blog post's: ``nn.Linear(10, 1)`` with mean squared error against a fixed
target t, and inputs x ~ U(0, 1)^10 drawn independently of t. Averaged over inputs, the loss
of a layer (w, b) is

    E[L](w, b) = (0.5·Σw + b − t)² + ‖w‖²/12
               = (mean prediction − t)² + (spread of the prediction over inputs)²,

so the best layer ignores its input (w = 0, b = t) and reaches loss 0. Its Hessian,
2·E[z zᵀ] with z = [x, 1], has one fast direction (λ ≈ 7.12, fixes the mean prediction), one
slow direction (λ ≈ 0.047, trades Σw against b) and nine at 1/6 (reshuffle w without changing
Σw). Those three numbers explain the whole training curve: a quick drop, then a long crawl.

A rule in the inputs (``Config.rule``, y = f(x)) moves the optimum to the fit of f by one neuron and
adds the part of f it cannot fit; noise adds σ² (``fit``). The Hessian, the limits and the time
constants depend on the inputs alone, so they stay exactly as they are; what is new is that SGD no
longer settles at the optimum but jitters around it (``stationary_excess``).

One job per module, each importing only the ones listed before it:

- ``moments``: the inputs' distribution as the moments every formula uses (the one place for U(0, 1));
- ``loss``: the expected loss, its three terms, the optimum and where weight decay moves it;
- ``fit``: a rule in the inputs and noise on the targets: the fit one neuron reaches (least squares,
  ridge with weight decay), the floor it cannot beat, and the gradient's noise at the optimum;
- ``curvature``: the Hessian, its eigenvalues and the fast and slow directions;
- ``sgd``: torch.optim.SGD's noise-free learning-rate limit and time constants, with every option;
- ``mean_square``: stochastic SGD in mean square: the exact stability limit for any batch size,
  where the error settles when the optimum does not fit every sample, and where runs of many seeds are
  after some epochs (``spread_after``: the mean and spread of b);
- ``empirical``: the same theory on a learner's data set (``lucky5.data``), from the rows' own moments:
  the fit SGD reaches (least squares; minimum-norm plus the start's untouched part when columns are
  constant or collinear), the loss one neuron cannot beat, the Hessian's eigenvalues, the valley's plane,
  the slowest time constant, the stability limit, and which numbers are 0 within float32 rounding;
- ``claims``: what holds for one ``Config`` and what is withheld, with the reason
  (``stability``, ``divergence_hint``, ``time_constant_for``, ``optimum_for``, ``stationary_excess``, and for
  a run on data ``data_outlook``: how far above its floor it ended and how many epochs theory suggests);
- ``series``: the theory along a recorded ``History``, one value per parameter row;
- ``why``: the "Why not exactly 5?" numbers of one run (``why_not_five``).

Other optimizers rescale their steps, and no SGD formula is claimed for them. This package is not a
trainer (see ``engine``), it draws no random numbers, and it knows nothing about a UI. Everything is
float64: these are reference values, not training maths. Every public name is importable from
``lucky5.theory`` itself.
"""

from .claims import (
    DIVERGES,
    FLOAT32_MAX,
    NEAR_EDGE,
    NEVER_SETTLES,
    OVERFLOW_TARGET,
    STABLE,
    STOPS,
    TIME_CONSTANT_MODES,
    VERDICTS,
    WITHHELD,
    DataOutlook,
    Jitter,
    Optimum,
    Stability,
    data_collinear_note,
    data_outlook,
    divergence_hint,
    optimum_for,
    stability,
    stationary_excess,
    time_constant_for,
)
from .curvature import (
    OTHER_EIGENVALUE,
    eigenvalues,
    fast_direction,
    fast_eigenvalue,
    hessian,
    slow_direction,
    slow_eigenvalue,
)
from .empirical import (
    DataFit,
    data_collinear,
    data_critical_lr,
    data_eigenvalues,
    data_expected_loss,
    data_expected_losses,
    data_fit,
    data_floor,
    data_moments,
    data_second_moment,
    data_span,
    data_time_constant,
    data_valley,
    data_zeroed,
    data_zeroed_loss,
)
from .fit import Fit, gradient_noise, least_squares, ridge_fit, rule_polynomial
from .loss import (
    LOSS_TERM_NAMES,
    expected_loss,
    expected_loss_terms,
    mean_error,
    optimum,
    prediction_spread,
    regularized_optimum,
)
from .mean_square import (
    INIT_VARIANCE,
    Spread,
    mean_square_growth,
    mean_square_time_constant,
    moments_critical_lr,
    sgd_critical_lr,
    spread_after,
    stationary_error,
)
from .moments import INPUT_MEAN, INPUT_VARIANCE, Moments, input_fourth_moment, input_second_moment
from .series import (
    Modes,
    bias_errors,
    distances_to_optimum,
    expected_losses,
    loss_terms,
    mean_errors,
    modes,
    valley_coordinates,
    weight_norms,
)
from .sgd import critical_lr, fast_time_constant, other_time_constant, slow_time_constant, stalls, time_constant
from .why import WhyNotFive, why_not_five

__all__ = [
    "DIVERGES",
    "FLOAT32_MAX",
    "INIT_VARIANCE",
    "INPUT_MEAN",
    "INPUT_VARIANCE",
    "LOSS_TERM_NAMES",
    "NEAR_EDGE",
    "NEVER_SETTLES",
    "OTHER_EIGENVALUE",
    "OVERFLOW_TARGET",
    "STABLE",
    "STOPS",
    "TIME_CONSTANT_MODES",
    "VERDICTS",
    "WITHHELD",
    "DataFit",
    "DataOutlook",
    "Fit",
    "Jitter",
    "Modes",
    "Moments",
    "Optimum",
    "Spread",
    "Stability",
    "WhyNotFive",
    "bias_errors",
    "critical_lr",
    "data_collinear",
    "data_collinear_note",
    "data_critical_lr",
    "data_eigenvalues",
    "data_expected_loss",
    "data_expected_losses",
    "data_fit",
    "data_floor",
    "data_moments",
    "data_second_moment",
    "data_outlook",
    "data_span",
    "data_time_constant",
    "data_valley",
    "data_zeroed",
    "data_zeroed_loss",
    "distances_to_optimum",
    "divergence_hint",
    "eigenvalues",
    "expected_loss",
    "expected_loss_terms",
    "expected_losses",
    "fast_direction",
    "fast_eigenvalue",
    "fast_time_constant",
    "gradient_noise",
    "hessian",
    "input_fourth_moment",
    "input_second_moment",
    "least_squares",
    "loss_terms",
    "mean_error",
    "mean_errors",
    "mean_square_growth",
    "mean_square_time_constant",
    "modes",
    "moments_critical_lr",
    "optimum",
    "optimum_for",
    "other_time_constant",
    "prediction_spread",
    "regularized_optimum",
    "ridge_fit",
    "rule_polynomial",
    "sgd_critical_lr",
    "slow_direction",
    "slow_eigenvalue",
    "slow_time_constant",
    "spread_after",
    "stability",
    "stalls",
    "stationary_error",
    "stationary_excess",
    "time_constant",
    "time_constant_for",
    "valley_coordinates",
    "weight_norms",
    "why_not_five",
]
