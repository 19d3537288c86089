"""Flux Matching on the 8-Gaussian ring: a non-reciprocal circuit against a reciprocal one.

Trains ``netlists/ring8_flux.cir`` (non-reciprocal: forward and backward arrays of
their own) and ``netlists/ring8_score.cir`` (reciprocal: Flux Matching on it is score
matching) with ``neurosim.api.train`` (objective flux, the same settings), then for each:

- samples ``--n`` points by Langevin dynamics of the circuit's field from N(0, I)
  (``--steps`` steps of ``--dt``) and measures W2 to ``--n`` data points (an exact
  assignment), next to the W2 of two independent draws of the ring of that size;
- W2 against the step count along the same rollout (mixing: the first step from which W2 stays
  within 10% of the mean of the last quarter of the rollout);
- the learned field's mean |curl| and Stein residual (mean r²) over 500 data points
  (:func:`neurosim.learn.flux_objective.field_diagnostics`, what `neurosim evaluate
  --objective flux` prints).

Noise-annealed circuits (``--circuits flux_annealed,score_annealed``: the same shapes
with a ``noise`` input, trained over [``--sigma``, ``--sigma-max``]) are sampled as the
reference samples them — ``--levels`` levels of the reverse-time SDE from σ_max·N(0, I)
(`sample --anneal`, with ``--denoise`` Tweedie's last step) — and then rolled out at
σ_min for ``--steps`` steps from there (does the learned field keep the ring?); their
mixing and field are measured at σ_min. ``--lr-schedule cosine`` as `train`'s.

With ``--analog N`` the first N samples are also drawn by the circuit itself (`sample
--analog`: the springs' targets held on capacitors, the transient engine, the noise
current of unit model temperature) from N(0, I) for the rollout's model time, and
compared with the host loop's Langevin samples from N(0, I) at the same time (the same
dynamics: W2 between them near that of two draws of N points).

Progress goes to stderr; stdout gets a table and, last, one JSON line. ``--out`` keeps
the runs (RUN_DIR/flux, RUN_DIR/score, ...) and writes the pictures there.

Run: .venv/bin/python bench/flux_bench.py --epochs 600 --out runs/flux_bench
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from neurosim import api
from neurosim.data.datasets import load_dataset, toy_points
from neurosim.learn.flux_objective import FluxStep, field_diagnostics
from neurosim.learn.settings import SCHEDULES, FluxSettings
from neurosim.samplers.analog import held_samples
from neurosim.samplers.flow import CircuitField
from neurosim.samplers.langevin import annealed_langevin, noise_levels
from neurosim.samplers.readout import Readout
from neurosim.scores.distribution import wasserstein2

ROOT = Path(__file__).resolve().parents[1]
FINE, COARSE = 10, 100  # W2 is measured every FINE steps up to 200, then every COARSE


def mixing_step(curve: list[tuple[int, float]], tail: float) -> int:
    """The first step from which W2 stays within 10% of its long-run value ``tail``."""
    inside = [abs(w - tail) <= 0.1 * tail for _, w in curve]
    first = len(inside)
    while first > 0 and inside[first - 1]:
        first -= 1
    return curve[min(first, len(curve) - 1)][0]


def check_steps(steps: int) -> set[int]:
    """The steps of the W2-against-steps curve: fine early (mixing), coarse later."""
    return (
        set(range(FINE, min(steps, 200) + 1, FINE))
        | set(range(COARSE, steps + 1, COARSE))
        | {steps}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=600)
    parser.add_argument("--alpha", type=float, default=FluxSettings().alpha)
    parser.add_argument("--sigma", type=float, default=FluxSettings().sigma)
    parser.add_argument("--sigma-max", type=float, default=1.5, help="annealed circuits")
    parser.add_argument("--levels", type=int, default=200, help="annealed sampling's levels")
    parser.add_argument("--analog", type=int, default=0, help="samples drawn by the circuit")
    parser.add_argument("--lr", type=float, default=FluxSettings().lr)
    parser.add_argument("--lr-schedule", default="constant", choices=SCHEDULES)
    parser.add_argument("--denoise", action="store_true", help="annealed: Tweedie's last step")
    parser.add_argument("--loss", default="flux", choices=("flux", "score"))
    parser.add_argument("--batch-size", type=int, default=FluxSettings().batch_size)
    parser.add_argument("--tol", type=float, default=FluxSettings().tol)
    parser.add_argument("--max-passes", type=int, default=FluxSettings().max_passes)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--dt", type=float, default=0.005)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--circuits",
        default="flux,score",
        help="which of ring8_flux, ring8_score, ring8_flux_annealed, ring8_score_annealed, "
        "ring8_flux_sharp, ring8_flux_sharp_annealed (without ring8_)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "runs/flux_bench")
    args = parser.parse_args()
    data = load_dataset("ring8").x
    baseline = wasserstein2(
        *(toy_points("ring8", args.n, np.random.default_rng(s)).x for s in (1, 2))
    )
    rows = {}
    for kind in args.circuits.split(","):
        rows[kind] = measure(kind, args, data)
    table(rows, baseline, args)
    print(
        json.dumps(
            {"settings": vars(args) | {"out": str(args.out)}, "w2_two_draws": baseline, **rows}
        )
    )


def measure(kind: str, args, data: np.ndarray) -> dict:
    annealed = kind.endswith("_annealed")
    settings = FluxSettings(
        data="ring8", epochs=args.epochs, alpha=args.alpha, sigma=args.sigma, lr=args.lr,
        batch_size=args.batch_size, tol=args.tol, max_passes=args.max_passes, seed=args.seed,
        checkpoint_every=50, sigma_max=args.sigma_max if annealed else 0.0, loss=args.loss,
        lr_schedule=args.lr_schedule,
    )  # fmt: skip
    began = time.perf_counter()

    def progress(p) -> None:
        if p.done % 25 == 0 or p.done == p.epochs:
            m = p.metrics
            print(f"{kind} epoch {p.done}/{p.epochs}: Stein {m['stein']:.4g}, "
                  f"{time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)  # fmt: skip

    run_dir = args.out / kind
    resume = (run_dir / "checkpoint.h5").is_file()
    result = api.train(
        ROOT / f"netlists/ring8_{kind}.cir", "flux", settings=settings, out=run_dir,
        resume=resume, progress=progress,
    )  # fmt: skip
    seconds = time.perf_counter() - began
    chip = result.chip
    rng = np.random.default_rng(args.seed + 1)
    sigma_min = args.sigma if annealed else None
    readout = Readout(chip, "spring", args.alpha, tolerance=1e-8, sigma_min=sigma_min)
    field = CircuitField(readout)
    reference = data[rng.permutation(data.shape[0])[: args.n]]
    x0 = rng.standard_normal((args.n, 2))
    out = {"train_seconds": seconds}
    if annealed:
        began = time.perf_counter()

        def at_level(x: np.ndarray, sigma: float) -> np.ndarray:
            readout.sigma = sigma
            return field(x)

        levels = noise_levels(args.sigma, args.sigma_max, args.levels)
        start = annealed_langevin(args.sigma_max * x0, at_level, levels, rng, denoise=args.denoise)
        readout.sigma = args.sigma
        out["w2_annealed"] = wasserstein2(start, reference)
        out["annealed_seconds"] = time.perf_counter() - began
        save_pictures(start, data, f"{kind}_annealed", args.out)
        print(f"{kind} annealed: W2 {out['w2_annealed']:.4f}", file=sys.stderr, flush=True)
        x, curve = rollout(field, start, reference, args, rng, f"{kind} from annealed")
        out |= {"w2": curve[-1][1], "w2_curve_from_annealed": curve}
        save_pictures(x, data, kind, args.out)
    x, curve = rollout(field, x0, reference, args, rng, f"{kind} from N(0, I)")
    tail = np.mean([w for s, w in curve if s > 0.75 * args.steps])
    if not annealed:
        out["w2"] = curve[-1][1]
        save_pictures(x, data, kind, args.out)
    out |= {"w2_curve": curve, "w2_long_run": float(tail), "mixing_steps": mixing_step(curve, tail)}
    if args.analog:
        began = time.perf_counter()
        analog, _, stats, described = held_samples(
            chip, args.analog, np.random.default_rng(args.seed + 2), args.alpha,
            args.steps * args.dt, sigma_min=sigma_min,
        )  # fmt: skip
        out |= {
            "analog_w2_to_host_loop": wasserstein2(analog, x[: args.analog]),
            "analog_w2_to_data": wasserstein2(analog, reference[: args.analog]),
            "analog_physical_seconds": stats.physical_seconds,
            "analog_heat_j_per_sample": stats.heat_j,
            "analog_temperature_k": described["temperature"],
            "analog_seconds": time.perf_counter() - began,
        }
        save_pictures(analog, data, f"{kind}_analog", args.out)
    step = FluxStep(alpha=args.alpha, sigma=args.sigma, max_passes=args.max_passes)
    diagnostics = field_diagnostics(chip, data, step)
    return out | {
        "mean_abs_curl": diagnostics["curl"],
        "median_abs_curl": diagnostics["curl_median"],
        "stein_residual": diagnostics["stein"],
        "unsettled_readings": int(field.unsettled),
    }


def rollout(field, x, reference, args, rng, label: str):
    """``args.steps`` Langevin steps of ``args.dt`` from ``x``; the end points and the
    W2-against-steps curve."""
    checks, curve = check_steps(args.steps), []
    for step in range(1, args.steps + 1):
        x = x + args.dt * field(x) + np.sqrt(2 * args.dt) * rng.standard_normal(x.shape)
        if step in checks:
            curve.append((step, wasserstein2(x, reference)))
            print(f"{label} step {step}: W2 {curve[-1][1]:.4f}", file=sys.stderr, flush=True)
    return x, curve


def save_pictures(x: np.ndarray, data: np.ndarray, kind: str, out: Path) -> None:
    from neurosim.samplers.scatter import save_scatter

    save_scatter(x, out / f"{kind}_samples.png", data, title=f"ring8_{kind}: samples")


def table(rows: dict, baseline: float, args) -> None:
    print(
        f"W2 of two independent draws of {args.n}: {baseline:.4f} (goal: <= {1.5 * baseline:.4f})"
    )
    header = ("circuit", "annealed", "W2", "long run", "mixing", "|curl|", "median", "Stein r2")
    widths = (14, 9, 8, 9, 7, 8, 9, 10)
    print(" ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)) + "  train s")
    for kind, m in rows.items():
        annealed = f"{m['w2_annealed']:9.4f}" if "w2_annealed" in m else f"{'-':>9}"
        print(
            f"{kind:>14} {annealed} {m['w2']:8.4f} {m['w2_long_run']:9.4f} "
            f"{m['mixing_steps']:7d} {m['mean_abs_curl']:8.3f} {m['median_abs_curl']:9.2e} "
            f"{m['stein_residual']:10.4g}  {m['train_seconds']:.0f}"
        )
    for kind, m in rows.items():
        if "analog_w2_to_host_loop" in m:
            print(
                f"{kind} analog ({args.analog} samples, {m['analog_physical_seconds']:.3g} s of "
                f"circuit time): W2 to the host loop's {m['analog_w2_to_host_loop']:.4f}, to "
                f"the data {m['analog_w2_to_data']:.4f}"
            )


if __name__ == "__main__":
    main()
