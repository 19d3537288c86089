"""``neurosim info``: what a netlist or an HDF5 file holds."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def info(file: Path, as_json: bool) -> None:
    """Describe FILE: a SPICE netlist (elements, nodes, roles, network shape, parameter
    count, scaling, trainable devices) or a neurosim HDF5 file (schema, network,
    datasets with shapes)."""
    from neurosim.errors import NeurosimError

    if not file.is_file():
        raise NeurosimError(f"{file}: no such file" if not file.exists() else f"{file}: not a file")
    with open(file, "rb") as handle:
        is_hdf5 = handle.read(8) == HDF5_SIGNATURE
    summary = _hdf5_summary(file) if is_hdf5 else _netlist_summary(file)
    if as_json:
        click.echo(json.dumps(summary))
        return
    for key, value in summary.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for sub, item in value.items():
                click.echo(f"  {sub}: {item}")
        else:
            click.echo(f"{key}: {value}")


NO_ENERGY = (
    "none: non-reciprocal (each coupling's forward and backward arrays are programmed "
    "independently, w<k> and w<k>_back), so its settled field is not the gradient of any energy"
)

NOISE_INPUT = (
    "conditional: the input 'noise' carries the noise level σ as ln(σ)/4 (noise-annealed "
    "Flux Matching: train --sigma-max, sample --langevin --anneal)"
)


def _network_summary(meta) -> dict:
    energy = {} if meta.reciprocal else {"energy": NO_ENERGY}
    if meta.noise_conditional:
        energy["noise"] = NOISE_INPUT
    return {
        "family": meta.family,
        "law": meta.law,
        **energy,
        "layers": ", ".join(f"{l.name}[{l.size}] {l.kind} {l.activation}" for l in meta.layers),
        "couplings": ", ".join(
            f"w{k}: {a}->{b} {meta.weight_shapes()[f'w{k}']}"
            for k, (a, b) in enumerate(meta.couplings)
        ),
        "parameters": meta.parameter_count(),
        "spring_lambda": meta.spring_lambda,
        "scaling": (
            f"{meta.scaling.volts_per_unit} V/unit, g_unit {meta.scaling.g_unit} S, "
            f"g_min {meta.scaling.g_min} S, tau {meta.scaling.tau} s"
        ),
    }


def _netlist_summary(path: Path) -> dict:
    from neurosim import api
    from neurosim.circuit.ir import KIND_NAMES
    from neurosim.circuit.units import TNOM_CELSIUS
    from neurosim.netlist.parse import parse_netlist

    circuit = parse_netlist(path)
    counts = circuit.count()
    summary: dict = {
        "file": str(path),
        "kind": "netlist",
        "title": circuit.title,
        "nodes": len(circuit.nodes()),
        "elements": {KIND_NAMES[k]: counts[k] for k in sorted(counts)},
        "roles": dict(Counter(role.value for role in circuit.roles.values())),
        "trainable": f"{sum(circuit.is_trainable(n) for n in circuit.elements):,} elements "
        f"matching {' '.join(circuit.trainable) or '(none)'}",
    }
    celsius, tnom = circuit.temperature()
    if (celsius, tnom) != (TNOM_CELSIUS, TNOM_CELSIUS):
        summary["temperature"] = f"{celsius:g} °C (nominal {tnom:g} °C)"
    if circuit.network is not None:
        summary["network"] = _network_summary(circuit.network)
    summary["engine"] = api.engine_summary(circuit)
    if circuit.programmed:
        summary["programmed"] = {
            f"#{k + 1}": _programming(record) for k, record in enumerate(circuit.programmed)
        }
    return summary


def _programming(record: dict) -> str:
    """One line on a ``*@neurosim programmed`` record."""
    settings = ", ".join(f"{k} {v}" for k, v in sorted(record.get("settings", {}).items()))
    seconds = record.get("seconds")
    when = "right after programming" if seconds is None else f"{seconds} s after programming"
    line = f"{record.get('device', '?')} ({settings}), seed {record.get('seed', '?')}, {when}"
    alpha = record.get("compensation")
    line = line if alpha is None else f"{line}, drift compensation {alpha}"
    amplifiers = record.get("amplifiers")
    if amplifiers:
        errors = ", ".join(f"{k} {v}" for k, v in sorted(amplifiers.items()))
        line = f"{line}, amplifiers ({errors})"
    return line


def _hdf5_summary(path: Path) -> dict:
    from neurosim.errors import NeurosimError

    summary: dict = {"file": str(path), "kind": "hdf5"}
    try:
        return _hdf5_contents(path, summary)
    except OSError as exc:
        raise NeurosimError(f"{path}: not a readable HDF5 file ({exc})") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise NeurosimError(f"{path}: bad network metadata ({type(exc).__name__}: {exc})") from None


def _hdf5_contents(path: Path, summary: dict) -> dict:
    import h5py

    from neurosim.circuit.meta import NetworkMeta

    with h5py.File(path, "r") as handle:
        summary["schema"] = str(handle.attrs.get("schema", "(none)"))
        if "network" in handle.attrs:
            meta = NetworkMeta.from_dict(json.loads(handle.attrs["network"]))
            summary["network"] = _network_summary(meta)
        if "family" in handle.attrs:  # equilibria of a circuit of another family
            summary["family"] = str(handle.attrs["family"])
            summary["sources"] = ", ".join(str(name) for name in handle.attrs["sources"])
        datasets: dict = {}
        handle.visititems(
            lambda name, obj: (
                datasets.__setitem__(name, f"{obj.dtype} {obj.shape}")
                if isinstance(obj, h5py.Dataset)
                else None
            )
        )
        summary["datasets"] = datasets
    return summary
