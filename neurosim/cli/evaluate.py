"""``neurosim evaluate``: how well a chip (e.g. a programmed one) does its job."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command()
@click.argument("chip", type=click.Path(path_type=Path))
@click.option(
    "--objective",
    default="classify",
    show_default=True,
    type=click.Choice(["classify", "flow", "flux"]),
    help="classify: held-out accuracy on the split training uses (its --seed); flow: "
    "Fréchet distance, coverage and confidence of 500 samples (Euler dt 0.05 to t = 1); "
    "flux: the learned field's mean curl, Stein residual (mean r², 0 when the data is "
    "stationary) and |f - s|² over 500 points of --data (alpha, sigma: flux's defaults "
    "or --alpha/--sigma).",
)
@click.option("--data", default=None, help="flux: the dataset (default: digits).")
@click.option("--alpha", type=float, help="flux: the field's output scale α (default 8).")
@click.option("--sigma", type=float, help="flux: the data's smoothing σ (default 0.05).")
@click.option(
    "--sigma-max",
    type=float,
    help="flux, a noise-conditional circuit: the largest noise level its field is checked "
    "at (default 30 × --sigma); its relative error |f - s|²/|s|² is printed at 6 levels.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed (split, samples).")
@click.option(
    "--adc-bits",
    type=int,
    help="ADC bits on each reading (classify: the output units; flow: the spring currents).",
)
@click.option("--adc-range", type=float, help="ADC full scale ± (model units; default 1).")
@click.option("--read-noise", type=float, help="Output noise σ per reading (model units).")
@click.option("--dac-bits", type=int, help="DAC bits on the input rows (classify).")
@click.option("--dac-range", type=float, help="DAC full scale ± (model units; default 1).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate(
    chip: Path,
    objective: str,
    data: str | None,
    alpha: float | None,
    sigma: float | None,
    sigma_max: float | None,
    seed: int,
    adc_bits: int | None,
    adc_range: float | None,
    read_noise: float | None,
    dac_bits: int | None,
    dac_range: float | None,
    as_json: bool,
) -> None:
    """Evaluate CHIP (a netlist: trained, programmed with `neurosim program`, or edited)
    as it is: no programming, no training. The converters (--adc-*, --read-noise,
    --dac-*) act on each evaluation, as the host's readout and input path."""
    from neurosim import api
    from neurosim.cli.options import build_settings
    from neurosim.learn.settings import SETTINGS

    given = {"seed": seed}
    if objective == "flux":
        named = (("data", data), ("alpha", alpha), ("sigma", sigma), ("sigma_max", sigma_max))
        given |= {k: v for k, v in named if v}
    settings = build_settings(SETTINGS[objective], given)
    readout = None
    if (adc_bits, adc_range, read_noise) != (None, None, None):
        from neurosim.devices.periphery import Readout

        given = {"adc_bits": adc_bits, "adc_range": adc_range, "out_noise": read_noise}
        readout = build_settings(Readout, given)
    drive = None
    if (dac_bits, dac_range) != (None, None):
        from neurosim.devices.periphery import Drive

        drive = build_settings(Drive, {"dac_bits": dac_bits, "dac_range": dac_range})
    scores = api.evaluate(chip, objective, settings, readout, drive)
    if as_json:
        click.echo(json.dumps({"file": str(chip), "objective": objective, **scores}))
    elif objective == "classify":
        click.echo(
            f"{chip}: held-out accuracy {scores['accuracy']:.2%} (seed {seed}), "
            f"{scores['unsettled']:.0f} unsettled"
        )
    elif objective == "flux":
        click.echo(
            f"{chip}: mean |curl| {scores['curl']:.4g} (median {scores['curl_median']:.4g}), "
            f"Stein residual {scores['stein']:.4g}, "
            f"|f - s|² {scores['score_mse']:.4g} over {scores['points']:.0f} points of "
            f"{settings.data} ({scores['unsettled']:.0f} unsettled)"
        )
        if "levels" in scores:
            errors = ", ".join(f"{k}: {v:.3f}" for k, v in scores["levels"].items())
            click.echo(f"relative error |f - s|²/|s|² by noise level σ: {errors}")
    else:
        click.echo(
            f"{chip}: FD {scores['frechet']:.3f}, coverage {scores['coverage']:.0f}, "
            f"confidence {scores['confidence']:.3f} (500 samples, seed {seed})"
        )
