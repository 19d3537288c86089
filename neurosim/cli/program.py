"""``neurosim program``: a netlist's network programmed onto realistic devices."""

from __future__ import annotations

from pathlib import Path

import click

from neurosim.cli.options import SEED, netlist_out_option
from neurosim.devices import NAMES, PULSED

DEVICES = tuple(name for name in NAMES if name not in PULSED)


@click.command()
@click.argument("netlist", type=click.Path(path_type=Path))
@click.option(
    "--device",
    default="pcm",
    show_default=True,
    type=click.Choice(DEVICES),
    help="ideal: exact devices; pcm: aihwkit's PCM-like model (g_max 25 uS, programming "
    "noise, per-device drift, 1/f read noise); generic: range, 2^bits levels, "
    "programming noise, stuck devices, drift (ideal unless --set).",
)
@click.option(
    "--set",
    "pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A device setting, by the model's names (repeatable), e.g. pcm: g_max, t0, "
    "t_read, prog_noise_scale, read_noise_scale, drift_scale; generic: g_min, g_max, "
    "bits, prog_noise, prog_noise_kind, p_stuck_min, p_stuck_max, p_stuck_random, nu, "
    "nu_spread, t0. SI units.",
)
@click.option(
    "--amplifier",
    "amplifier_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="The amplifiers' errors, each amplifier its own draw (repeatable): "
    "driver_gain_error (σ, relative), driver_offset (σ, volts), driver_swing (volts), "
    "injection_gain_error (σ, relative). Default: exact amplifiers.",
)
@click.option(
    "--time",
    "seconds",
    type=float,
    help="Seconds after programming: drift and accumulated read noise up to then "
    "(default: right after programming).",
)
@click.option(
    "--compensate",
    is_flag=True,
    help="Global drift compensation (aihwkit's default): a gain α = reference/now of the "
    "weight arrays' one-hot readings, written into every unit's injection amplifier.",
)
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of every draw.")
@netlist_out_option("The chip netlist")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def program(
    netlist: Path,
    device: str,
    pairs: tuple[str, ...],
    amplifier_pairs: tuple[str, ...],
    seconds: float | None,
    compensate: bool,
    seed: int,
    out: Path,
    force: bool,
) -> None:
    """Program NETLIST's network onto --device devices and write the chip to --out.

    Each device (the conductance pairs of the weights and biases) is programmed to the
    conductance NETLIST gives it; the chip's netlist holds the conductances the devices
    took (after --time seconds of drift, if given), so ngspice and every neurosim
    command see the same chip, and a `*@neurosim programmed` line records the device
    model, its settings, the seed, the time, the compensation gain and the amplifiers'
    errors (`neurosim info` shows it); --amplifier errors are written into the
    drivers' and injections' elements. Same seed, same chip; --device ideal gives
    NETLIST's own values.
    """
    from neurosim import api
    from neurosim.devices.presets import parse_settings
    from neurosim.io.outputs import claim_outputs, write_output

    claim_outputs({"--out": out}, [netlist], force=force)
    settings, amplifiers = parse_settings(pairs), parse_settings(amplifier_pairs)
    made = api.program(
        netlist,
        device,
        settings,
        seconds=seconds,
        seed=seed,
        compensate=compensate,
        amplifiers=amplifiers,
    )
    write_output(out, lambda: api.write_netlist(made.circuit, out))
    when = "right after programming" if seconds is None else f"{seconds:g} s after programming"
    click.echo(
        f"{out}: {made.devices:,} devices of {netlist} on {device} (seed {seed}), {when}; "
        f"mean |G - G_target|/G_target {made.mean_deviation:.3g}; "
        f"{made.out_of_range:,} targets out of the devices' range"
        + ("" if made.compensation is None else f"; drift compensation α {made.compensation:.4g}")
    )
