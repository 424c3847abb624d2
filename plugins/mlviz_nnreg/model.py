"""The 1-3-1 tanh network as a plain function of its ten parameters, and a least-squares fit.

The parameter vector ``theta`` is laid out as ``[w0 (3), b0 (3), w1 (3), b1]``:
``f(x) = b1 + sum_j w1[j] * tanh(w0[j] * x + b0[j])``. Everything here is numpy, the Adam
training in :mod:`.trainer` too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HIDDEN = 3
N_PARAMS = 3 * HIDDEN + 1
PARAM_NAMES = (
    *(f"w0[{j}]" for j in range(HIDDEN)),
    *(f"b0[{j}]" for j in range(HIDDEN)),
    *(f"w1[{j}]" for j in range(HIDDEN)),
    "b1",
)


def split(theta: np.ndarray) -> dict[str, np.ndarray]:
    """The named parts of ``theta``: input weights, hidden biases, output weights, output bias."""
    theta = np.asarray(theta, dtype=float)
    h = HIDDEN
    return {"w0": theta[:h], "b0": theta[h:2 * h], "w1": theta[2 * h:3 * h], "b1": theta[3 * h:]}


def predict(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The network's output at every point of ``x`` (1D)."""
    p = split(theta)
    hidden = np.tanh(np.outer(x, p["w0"]) + p["b0"])
    return hidden @ p["w1"] + p["b1"][0]


def jacobian(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d predict / d theta, shape (len(x), 10), by the chain rule."""
    p = split(theta)
    hidden = np.tanh(np.outer(x, p["w0"]) + p["b0"])
    slope = (1.0 - hidden**2) * p["w1"]  # d output / d (pre-activation)
    return np.column_stack([slope * x[:, None], slope, hidden, np.ones_like(x)])


def mse(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    residual = predict(theta, x) - y
    return float(np.mean(residual**2))


def mse_gradient(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d MSE / d theta."""
    residual = predict(theta, x) - y
    return 2.0 / len(x) * jacobian(theta, x).T @ residual


def mse_and_gradient(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The MSE and d MSE / d theta from one forward pass (what a training step needs)."""
    h = HIDDEN
    hidden = np.tanh(np.outer(x, theta[:h]) + theta[h:2 * h])
    residual = hidden @ theta[2 * h:3 * h] + theta[3 * h] - y
    scaled = (2.0 / len(x)) * residual  # d MSE / d output
    slope = (1.0 - hidden**2) * (theta[2 * h:3 * h] * scaled[:, None])  # d MSE / d pre-activation
    gradient = np.concatenate([x @ slope, slope.sum(axis=0), scaled @ hidden, [scaled.sum()]])
    return float(residual @ residual) / len(x), gradient


@dataclass(frozen=True)
class LeastSquaresFit:
    theta: np.ndarray
    mse: float
    iterations: int


def levenberg_marquardt(
    theta: np.ndarray, x: np.ndarray, y: np.ndarray, max_iter: int = 2000, damping: float = 1.0
) -> LeastSquaresFit:
    """Minimise the sum of squared residuals by Levenberg–Marquardt.

    Each step solves the damped Gauss–Newton system ``[J; sqrt(lambda) D] step = [-r; 0]`` by
    least squares (no normal equations: the Jacobian of this model is nearly singular), with
    Marquardt's scaling ``D`` = the largest column norms of ``J`` seen so far. A step that does
    not lower the cost is retried with four times the damping; an accepted one divides it by 3.
    """
    theta = np.array(theta, dtype=float)
    residual = predict(theta, x) - y
    cost = float(residual @ residual)
    scale = np.zeros(theta.size)
    zeros = np.zeros(theta.size)
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 (the count is returned)
        jac = jacobian(theta, x)
        scale = np.maximum(scale, np.linalg.norm(jac, axis=0))
        for _ in range(60):
            system = np.vstack([jac, np.sqrt(damping) * np.diag(scale + 1e-12)])
            step = np.linalg.lstsq(system, -np.concatenate([residual, zeros]), rcond=None)[0]
            trial = theta + step
            trial_residual = predict(trial, x) - y
            trial_cost = float(trial_residual @ trial_residual)
            if trial_cost < cost:
                break
            damping *= 4.0
        else:  # no step lowers the cost any more: a minimum, as far as floats can tell
            break
        theta, residual, cost = trial, trial_residual, trial_cost
        damping = max(damping / 3.0, 1e-15)
    return LeastSquaresFit(theta=theta, mse=cost / len(x), iterations=iterations)


#: |w·x + b| below which a tanh unit is on its straight middle (tanh' ≥ 0.42), not saturated.
STRAIGHT = 1.0


def extrapolation(theta: np.ndarray, x: float) -> tuple[float, int, float]:
    """Why the fit goes where it goes at ``x`` (outside the data): (the slope of the
    output there, the hidden neuron that contributes most of it (0-based), and that
    neuron's |w·x + b|: below :data:`STRAIGHT` it is still on tanh's straight middle, so
    the output keeps climbing almost linearly; above, it has saturated and adds a constant)."""
    p = split(theta)
    z = p["w0"] * x + p["b0"]
    parts = p["w1"] * p["w0"] * (1.0 - np.tanh(z) ** 2)
    j = int(np.argmax(np.abs(parts)))
    return float(parts.sum()), j, float(abs(z[j]))


def extrapolation_note(theta: np.ndarray, lsq_theta: np.ndarray | None, fit_max: float,
                       x: float) -> str:
    """A few lines saying what the fits do beyond the data at ``x``, and why."""
    slope, j, z = extrapolation(theta, x)
    lines = [f"Beyond x = {fit_max:g} no data pin the fits down.",
             f"Adam's slope at x = {x:g}: {slope:.2f}"]
    if z < STRAIGHT:
        lines.append(f"(neuron {j + 1}'s tanh is still straight there,\n"
                     f" |w·x + b| = {z:.1f}: y climbs almost linearly)")
    else:
        lines.append(f"(every tanh has saturated, |w·x + b| ≥ {z:.1f}: y levels off)")
    if lsq_theta is not None:
        lsq_slope, _, _ = extrapolation(lsq_theta, x)
        lines.append(f"least squares' slope: {lsq_slope:.2f}")
    return "\n".join(lines)
