"""FCM inference and Mental Modeler style scenario analysis.

Convention: W[i, j] is the effect of i on j, so the input a concept j receives is
sum_i W[i, j] A_i = (A @ W)[j] = (W.T @ A)[j]. (One Mental Modeler module computes W @ A, the
transpose; we do not.) A run stops at a steady state (max |A(t) - A(t-1)| <= threshold), at a limit cycle
(a state repeating with period > 1, reported as cycle_length), or at the iteration cap.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

RULES = ("kosko", "mkosko", "rescaled")
TRANSFERS = ("sigmoid", "tanh", "bivalent", "trivalent")
CLAMP_PRESETS: dict[str, float] = {"high": 1.0, "medium": 0.62, "low": 0.25}
"""Mental Modeler's clamp levels; '-high' etc. give the negative values."""


@dataclass
class SimulationConfig:
    """How to iterate a map: modified Kosko with sigmoid (lambda 1) unless told otherwise, and
    Mental Modeler's stopping threshold 1e-5 with a cap of 1000 steps.

    max_period bounds the limit-cycle search: each step compares the new state with the last
    max_period states, so cycles longer than that are reported only as 'not converged'.
    """

    rule: str = "mkosko"
    transfer: str = "sigmoid"
    lam: float = 1.0
    threshold: float = 1e-5
    max_iter: int = 1000
    max_period: int = 64

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"rule must be one of {', '.join(RULES)}, got {self.rule!r}")
        if self.transfer not in TRANSFERS:
            raise ValueError(f"transfer must be one of {', '.join(TRANSFERS)}, got {self.transfer!r}")
        if not self.lam > 0:
            raise ValueError(f"lambda must be > 0, got {self.lam}")
        if not self.threshold >= 0 or self.max_iter < 1 or self.max_period < 2:
            raise ValueError("threshold must be >= 0, max_iter >= 1 and max_period >= 2")


@dataclass
class RunResult:
    """Final state of one run. converged is False for a limit cycle (cycle_length > 1) and for
    hitting max_iter; iterations counts the update steps taken."""

    state: np.ndarray
    converged: bool
    iterations: int
    cycle_length: int | None = None


@dataclass
class ScenarioResult:
    """Baseline and clamped runs by concept name; delta omits the clamped concepts."""

    concepts: list[str]
    baseline: RunResult
    scenario: RunResult
    clamped: dict[str, float] = field(default_factory=dict)

    @property
    def delta(self) -> dict[str, float]:
        diff = self.scenario.state - self.baseline.state
        return {c: float(d) for c, d in zip(self.concepts, diff) if c not in self.clamped}

    @property
    def converged(self) -> bool:
        return self.baseline.converged and self.scenario.converged

    def to_dict(self) -> dict:
        """The CLI's JSON shape: baseline, scenario, delta by name, plus run diagnostics."""
        return {
            "baseline": dict(zip(self.concepts, self.baseline.state.tolist())),
            "scenario": dict(zip(self.concepts, self.scenario.state.tolist())),
            "delta": self.delta,
            "clamped": self.clamped,
            "converged": self.converged,
            "iterations": self.scenario.iterations,
            "cycle_length": self.scenario.cycle_length,
            "baseline_converged": self.baseline.converged,
            "baseline_iterations": self.baseline.iterations,
            "baseline_cycle_length": self.baseline.cycle_length,
        }


def transfer_function(name: str, lam: float = 1.0) -> Callable[[np.ndarray], np.ndarray]:
    """The squashing function f; lam is the steepness of sigmoid and tanh."""
    if name == "sigmoid":
        # Same as 1 / (1 + exp(-lam x)) but cannot overflow for large negative inputs.
        return lambda x: 0.5 * (1.0 + np.tanh(0.5 * lam * x))
    if name == "tanh":
        return lambda x: np.tanh(lam * x)
    if name == "bivalent":
        return lambda x: (x > 0).astype(float)
    if name == "trivalent":
        return np.sign
    raise ValueError(f"transfer must be one of {', '.join(TRANSFERS)}, got {name!r}")


SPARSE_BELOW = 0.2
"""Maps with fewer non-zero weights than this fraction sum over their edges only (faster)."""

Inputs = Callable[[np.ndarray], np.ndarray]
"""A -> the input each concept receives, sum_i W[i, j] A_i."""


def incoming(W: np.ndarray) -> Inputs:
    """The input function of a map: a matrix product, or a sum over the edges when W is sparse."""
    if np.count_nonzero(W) >= SPARSE_BELOW * W.size:
        WT = np.ascontiguousarray(W.T)
        return lambda A: WT @ A
    src, tgt = np.nonzero(W)
    w, n = W[src, tgt], W.shape[1]
    return lambda A: np.bincount(tgt, weights=w * A[src], minlength=n)


def step(inputs: Inputs, A: np.ndarray, rule: str, f: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """One synchronous update of every concept (fcm.md's three rules)."""
    if rule == "kosko":
        return f(inputs(A))
    if rule == "mkosko":
        return f(A + inputs(A))
    if rule == "rescaled":
        R = 2.0 * A - 1.0
        return f(R + inputs(R))
    raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")


def run(
    W: np.ndarray,
    initial: np.ndarray,
    config: SimulationConfig | None = None,
    clamp: Mapping[int, float] | None = None,
    min_iter: int = 0,
) -> RunResult:
    """Iterate from initial until steady state, limit cycle or max_iter.

    clamp maps concept index -> value; those concepts are set before the first step and reset
    after every step, so they act as sustained inputs. min_iter delays stopping so two runs
    can be compared after the same number of steps.
    """
    config = config or SimulationConfig()
    inputs = incoming(np.asarray(W, dtype=float))
    f = transfer_function(config.transfer, config.lam)
    idx = np.fromiter((clamp or {}).keys(), dtype=int)
    vals = np.fromiter((clamp or {}).values(), dtype=float)
    A = np.array(initial, dtype=float)
    A[idx] = vals
    if A.size == 0:
        return RunResult(A, True, 0)
    # Ring buffer of the last max_period states and the step each was reached at (-1 = empty).
    history = np.zeros((config.max_period, A.size))
    times = np.full(config.max_period, -1)
    history[0], times[0] = A, 0
    for t in range(1, config.max_iter + 1):
        new = step(inputs, A, config.rule, f)
        new[idx] = vals
        if t >= min_iter:
            if np.max(np.abs(new - A)) <= config.threshold:
                return RunResult(new, True, t)
            # The previous state (period 1) was ruled out just above, so any hit has period >= 2.
            hits = times[(times >= 0) & (np.abs(history - new).max(axis=1) <= config.threshold)]
            if hits.size:
                return RunResult(new, False, t, cycle_length=int(t - hits.max()))
        history[t % config.max_period], times[t % config.max_period] = new, t
        A = new
    return RunResult(A, False, config.max_iter)


def parse_clamp_value(text: str) -> float:
    """A clamp level: a number in [-1, 1] or a preset (high, medium, low, -high, ...)."""
    key = text.strip().lower()
    sign, name = (-1.0, key[1:]) if key.startswith("-") else (1.0, key.removeprefix("+"))
    if name in CLAMP_PRESETS:
        return sign * CLAMP_PRESETS[name]
    try:
        value = float(key)
    except ValueError:
        raise ValueError(f"clamp value {text!r} is not a number or one of high, medium, low") from None
    if not -1.0 <= value <= 1.0:
        raise ValueError(f"clamp value {text!r} is outside [-1, 1]")
    return value


def scenario(
    concepts: list[str],
    W: np.ndarray,
    clamps: Mapping[str, float],
    config: SimulationConfig | None = None,
) -> ScenarioResult:
    """Mental Modeler scenario: baseline from all ones, then the same with clamps; delta by name.

    Both runs are compared after the same number of steps (the shorter one is re-run to the
    longer one's count): a concept no clamp can reach then has a delta of exactly 0, instead
    of a difference of up to the threshold left by stopping the two runs at different steps.
    """
    config = config or SimulationConfig()
    pos = {c: i for i, c in enumerate(concepts)}
    unknown = [c for c in clamps if c not in pos]
    if unknown:
        raise KeyError(f"unknown concept {unknown[0]!r}")
    ones = np.ones(len(concepts))
    fixed = {pos[c]: float(v) for c, v in clamps.items()}
    baseline = run(W, ones, config)
    clamped = run(W, ones, config, fixed, min_iter=baseline.iterations)
    if clamped.iterations > baseline.iterations:
        baseline = run(W, ones, config, min_iter=clamped.iterations)
    return ScenarioResult(list(concepts), baseline, clamped, {c: float(v) for c, v in clamps.items()})
