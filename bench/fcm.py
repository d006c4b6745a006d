"""Speed of map metrics and one scenario on a random map (seeded).

    .venv/bin/python bench/fcm.py [--concepts 1000] [--density 0.05] [--seed 0]

Weights are uniform in [-1, 1] on a random 5% of the off-diagonal entries; the scenario clamps
the first concept high with the default settings (modified Kosko, sigmoid, threshold 1e-5).
A second scenario (another clamp) is timed too, to show any one-off cost of the first.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fcm.metrics import map_metrics  # noqa: E402
from fcm.simulate import scenario  # noqa: E402


def random_map(n: int, density: float, seed: int) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    mask = rng.random((n, n)) < density
    np.fill_diagonal(mask, False)
    return [f"concept {i}" for i in range(n)], np.where(mask, rng.uniform(-1, 1, (n, n)), 0.0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--concepts", type=int, default=1000)
    p.add_argument("--density", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    names, W = random_map(args.concepts, args.density, args.seed)

    t0 = time.perf_counter()
    metrics = map_metrics(names, W)
    t1 = time.perf_counter()
    result = scenario(names, W, {names[0]: 1.0})
    t2 = time.perf_counter()
    scenario(names, W, {names[1]: -0.62})  # again, to see any one-off cost of the first call
    t3 = time.perf_counter()

    print(f"map: {args.concepts} concepts, {metrics.n_edges} edges (density {metrics.density:.4f}), seed {args.seed}")
    print(f"metrics:  {t1 - t0:.3f} s")
    print(f"scenario: {t2 - t1:.3f} s (baseline {result.baseline.iterations} + scenario "
          f"{result.scenario.iterations} iterations, converged {result.converged}, "
          f"cycle {result.scenario.cycle_length})")
    print(f"second scenario (warm): {t3 - t2:.3f} s")
    print(f"total (metrics + first scenario): {t2 - t0:.3f} s")


if __name__ == "__main__":
    main()
