"""Command line: map metrics, scenarios and exports from a Mental Modeler CSV.

    python -m fcm metrics MATRIX.csv [--json]
    python -m fcm scenario MATRIX.csv --clamp "NAME=VALUE" [--clamp ...] [--rule R]
        [--transfer F] [--lambda L] [--threshold T] [--max-iter N] [--json]
    python -m fcm export MATRIX.csv OUT [--format graphml|json|fcmpy|csv|png|svg]

Bad input prints one line on stderr naming the file and the reason, and exits with 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from core.errors import InputError
from fcm import exports
from fcm.metrics import map_metrics
from fcm.simulate import RULES, TRANSFERS, SimulationConfig, parse_clamp_value, scenario

EXPORTERS = {
    "graphml": exports.write_graphml,
    "json": exports.write_json,
    "fcmpy": exports.write_fcmpy_json,
    "csv": exports.write_mental_modeler_csv,
    "png": exports.draw_map,
    "svg": exports.draw_map,
}


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line too (exit code 2 as usual)."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m fcm", description="Fuzzy cognitive map metrics and scenarios.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    m = sub.add_parser("metrics", help="Özesmi degrees, centrality, types, density, complexity, hierarchy")
    m.add_argument("matrix", help="Mental Modeler CSV (row = source, column = target)")
    m.add_argument("--json", action="store_true", help="print one JSON object")
    s = sub.add_parser("scenario", help="clamped run against the all-ones baseline (Mental Modeler)")
    s.add_argument("matrix", help="Mental Modeler CSV (row = source, column = target)")
    s.add_argument("--clamp", action="append", default=[], metavar="NAME=VALUE",
                   help="concept held at VALUE in [-1, 1] or high/medium/low/-high/...; repeatable")
    s.add_argument("--rule", choices=RULES, default=SimulationConfig.rule)
    s.add_argument("--transfer", choices=TRANSFERS, default=SimulationConfig.transfer)
    s.add_argument("--lambda", dest="lam", type=float, default=SimulationConfig.lam)
    s.add_argument("--threshold", type=float, default=SimulationConfig.threshold)
    s.add_argument("--max-iter", type=int, default=SimulationConfig.max_iter)
    s.add_argument("--json", action="store_true", help="print one JSON object")
    e = sub.add_parser("export", help="write the map as GraphML, JSON, FCMpy JSON, CSV, PNG or SVG")
    e.add_argument("matrix", help="Mental Modeler CSV (row = source, column = target)")
    e.add_argument("out", help="output file")
    e.add_argument("--format", choices=sorted(EXPORTERS), help="default: from OUT's suffix")
    return p


def _parse_clamps(matrix: str, specs: list[str], concepts: list[str]) -> dict[str, float]:
    clamps: dict[str, float] = {}
    for spec in specs:
        name, eq, value = spec.rpartition("=")
        name = name.strip()
        if not eq or not name:
            raise InputError(matrix, f"--clamp {spec!r} is not NAME=VALUE")
        if name not in concepts:
            raise InputError(matrix, f"--clamp {spec!r}: no concept named {name!r}")
        try:
            clamps[name] = parse_clamp_value(value)
        except ValueError as exc:
            raise InputError(matrix, f"--clamp {spec!r}: {exc}") from None
    return clamps


def _table(header: list[str], rows: list[list[str]]) -> str:
    """Plain text table: first column left-aligned, numbers right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _read_matrix(path: str) -> exports.FuzzyMap:
    """The map of a Mental Modeler CSV; a file of another kind is named as such, not read as a
    CSV with a puzzling complaint about its first row."""
    suffix = Path(path).suffix.lower()
    if suffix in (".json", ".jsonl", ".graphml", ".png", ".svg", ".pdf"):
        raise InputError(path, f"is a {suffix[1:].upper()} file; fcm reads a Mental Modeler CSV matrix "
                               "(the Map page's “Mental Modeler CSV” download)")
    return exports.read_mental_modeler_csv(path)


def _metrics(args: argparse.Namespace) -> None:
    fmap = _read_matrix(args.matrix)
    result = map_metrics(fmap.concepts, fmap.W)
    if args.json:
        print(json.dumps(result.to_dict()))
        return
    complexity = "undefined (no drivers)" if result.complexity is None else f"{result.complexity:.4g}"
    print(f"{result.n_concepts} concepts, {result.n_edges} edges, density {result.density:.4g}, "
          f"{result.connections_per_concept:.4g} connections per concept")
    print(f"drivers {result.n_drivers}, receivers {result.n_receivers}, ordinary {result.n_ordinary}; "
          f"complexity {complexity}, hierarchy {result.hierarchy:.4g}\n")
    rows = [[n, f"{m.indegree:.3f}", f"{m.outdegree:.3f}", f"{m.centrality:.3f}", m.type]
            for n, m in result.concepts.items()]
    print(_table(["concept", "indegree", "outdegree", "centrality", "type"], rows))


def _scenario(args: argparse.Namespace) -> None:
    fmap = _read_matrix(args.matrix)
    clamps = _parse_clamps(args.matrix, args.clamp, fmap.concepts)
    try:
        config = SimulationConfig(args.rule, args.transfer, args.lam, args.threshold, args.max_iter)
    except ValueError as exc:
        raise InputError(args.matrix, str(exc)) from None
    result = scenario(fmap.concepts, fmap.W, clamps, config)
    if args.json:
        print(json.dumps(result.to_dict()))
        return
    status = "converged" if result.converged else (
        f"limit cycle of length {result.scenario.cycle_length}" if result.scenario.cycle_length
        else "did not converge")
    print(f"{args.rule} / {args.transfer} (lambda {args.lam}): {status} after "
          f"{result.scenario.iterations} iterations (baseline {result.baseline.iterations})\n")
    delta = result.delta
    rows = [[n, f"{b:.4f}", f"{s:.4f}", "clamped" if n in clamps else f"{delta[n]:+.4f}"]
            for n, b, s in zip(fmap.concepts, result.baseline.state, result.scenario.state)]
    print(_table(["concept", "baseline", "scenario", "delta"], rows))


def _export(args: argparse.Namespace) -> None:
    fmt = args.format or Path(args.out).suffix.lower().lstrip(".")
    if fmt not in EXPORTERS:
        raise InputError(args.out, f"cannot tell the format from the suffix; use --format ({', '.join(sorted(EXPORTERS))})")
    fmap = _read_matrix(args.matrix)
    try:
        EXPORTERS[fmt](fmap, args.out)
    except OSError as exc:
        raise InputError(args.out, f"cannot write ({exc.strerror or exc})") from None
    print(f"wrote {args.out} ({fmt})")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        {"metrics": _metrics, "scenario": _scenario, "export": _export}[args.command](args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader left early (`| head`): not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
