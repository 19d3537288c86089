"""Circuit IR -> ngspice netlist text (deterministic, SI values, metadata in comments).

neurosim's own metadata goes on comment lines that start with :data:`META_PREFIX`, so
the file stays plain SPICE::

    *@neurosim schema neurosim-netlist/2
    *@neurosim network {"family": "crossbar", ...}     (JSON, one line)
    *@neurosim structure {"rails": [...], "units": {...}, "arrays": [...]}
                                                        (JSON, one line: which element is
                                                        which part, circuit/structure.py)
    *@neurosim trainable rw* rb*                        (glob patterns over element names)
    *@neurosim role x_0 visible                         (one node per line)
    *@neurosim programmed {"device": "pcm", ...}        (JSON, one line per programming)

Schema ``neurosim-netlist/1`` (before the structure line) still reads.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from neurosim.circuit.expr import to_text
from neurosim.circuit.ir import Circuit, Element, Model
from neurosim.circuit.units import format_number
from neurosim.io.atomic import write_text_atomic

META_PREFIX = "*@neurosim"
SCHEMA = "neurosim-netlist/2"
READABLE_SCHEMAS = ("neurosim-netlist/1", SCHEMA)


def element_line(element: Element) -> str:
    """One SPICE line for ``element``."""
    kind, nodes = element.kind, " ".join(element.nodes)
    head = f"{element.name} {nodes}"
    value = format_number(element.value)
    if kind in "rcl":
        line = f"{head} {value}"
        return line if element.ic is None else f"{line} ic={format_number(element.ic)}"
    if kind in "vi":
        line = f"{head} dc {value}"
        return f"{line} {element.extra}" if element.extra else line
    if kind in "eg":
        return f"{head} {value}"
    if kind in "fh":
        return f"{head} {element.control} {value}"
    if kind == "d":
        # ngspice 39 rejects a positional area after the model name: write area=.
        return f"{head} {element.model}" + ("" if element.value == 1.0 else f" area={value}")
    if kind == "b":
        return f"{head} {element.output}={{{to_text(element.expr)}}}"
    raise ValueError(f"cannot write element {element.name!r}")


def model_line(model: Model) -> str:
    """One ``.model`` card."""
    params = " ".join(f"{k}={format_number(v)}" for k, v in model.params)
    return (
        f".model {model.name} {model.kind} ({params})"
        if params
        else f".model {model.name} {model.kind}"
    )


def netlist_lines(circuit: Circuit) -> list[str]:
    """The netlist of ``circuit`` as a list of lines (no trailing newlines)."""
    lines = [circuit.title, f"{META_PREFIX} schema {SCHEMA}"]
    if circuit.network is not None:
        payload = json.dumps(circuit.network.to_dict(), sort_keys=True, separators=(", ", ": "))
        lines.append(f"{META_PREFIX} network {payload}")
    if circuit.structure is not None:
        payload = json.dumps(circuit.structure.to_dict(), separators=(",", ":"))
        lines.append(f"{META_PREFIX} structure {payload}")
    if circuit.trainable:
        lines.append(f"{META_PREFIX} trainable {' '.join(circuit.trainable)}")
    lines.extend(f"{META_PREFIX} role {node} {role.value}" for node, role in circuit.roles.items())
    lines.extend(
        f"{META_PREFIX} programmed {json.dumps(record, sort_keys=True)}"
        for record in circuit.programmed
    )
    lines.extend(model_line(m) for m in circuit.models.values())
    lines.extend(element_line(e) for e in circuit.elements.values())
    lines.extend(circuit.controls)
    lines.append(".end")
    return lines


def netlist_text(circuit: Circuit) -> str:
    """The netlist of ``circuit`` as one string ending in a newline."""
    return "\n".join(netlist_lines(circuit)) + "\n"


def write_netlist(circuit: Circuit, path: str | os.PathLike) -> Path:
    """Write ``circuit`` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    write_text_atomic(path, netlist_text(circuit))
    return path
