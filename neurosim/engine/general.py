"""A network circuit settled as written on the general MNA solver, one setting at a time.

For the circuits whose added elements the crossbar engine cannot fold (an extra diode,
a behavioural source, an element joining two unit nodes): each setting's operating
point by :func:`neurosim.engine.dc.solve_dc` on the whole circuit — exact, and a sparse
Newton solve per setting, so seconds where the engine takes milliseconds. States come
back as the engine's: model units, read off the unit nodes in a given order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from neurosim.circuit.inputs import fix_element_values
from neurosim.circuit.ir import Circuit
from neurosim.circuit.meta import Scaling
from neurosim.engine.dc import TOLERANCE, OperatingPoint, solve_dc
from neurosim.engine.relax import Equilibrium
from neurosim.engine.sources import Sources
from neurosim.lower.layout import Layout
from neurosim.lower.mna import lower_dc

GENERAL_SOLVER = "general MNA Newton"


def solve_settings(
    circuit: Circuit,
    settings: Sequence[Mapping[str, float]],
    progress: Callable[[int, int], None] | None = None,
) -> list[OperatingPoint]:
    """The operating point of ``circuit`` under each of ``settings`` (element name -> SI
    value: independent sources, and nudge conductances the same in every setting), from
    0 V as ngspice's ``.op``; ``progress(done, total)`` after each."""
    circuit, settings = fix_element_values(circuit, list(settings))
    system = lower_dc(circuit)
    points = []
    for done, setting in enumerate(settings, start=1):
        system.set_sources(setting)
        points.append(solve_dc(system, throw=False))
        if progress is not None:
            progress(done, len(settings))
    return points


def equilibrium(
    points: Sequence[OperatingPoint], units: Sequence[str], scaling: Scaling
) -> Equilibrium:
    """``points`` as the engine reports equilibria: the state (len(points), len(units))
    read off the nodes ``units`` [model units], the MNA residual (A at nodes, V on
    branches) ÷ (vs·g_unit), Newton iterations as passes, each point's status."""
    vs, g_unit = scaling.volts_per_unit, scaling.g_unit
    state = np.array([[p.voltages[u] for u in units] for p in points]) / vs
    passes = np.array([p.iterations for p in points], dtype=np.int64)
    return Equilibrium(
        state=state.reshape(len(points), len(units)),
        residual=np.array([p.residual for p in points]) / (vs * g_unit),
        passes=passes,
        status=np.array([p.status for p in points], dtype=object),
        tolerance=TOLERANCE / (vs * g_unit),
        total_passes=int(passes.max(initial=0)),
        method=GENERAL_SOLVER,
    )


def source_settings(layout: Layout, scaling: Scaling, sources: Sources) -> list[dict[str, float]]:
    """Each setting of ``sources`` as SI element values: input, spring-target and
    nudge-target sources [V], nudge elements [S] (the inverse of
    :func:`neurosim.engine.sources.sources_from_settings`)."""
    vs, g_unit = scaling.volts_per_unit, scaling.g_unit
    columns = [(name, sources.inputs, i) for i, name in enumerate(layout.sources)]
    for array, part in (
        (sources.targets, "spring_source"),
        (sources.nudge_targets, "nudge_source"),
    ):
        columns += [(n, array, i) for i, n in enumerate(layout.parts[part]) if n is not None]
    nudges = {
        name: float(sources.nudge[i]) * g_unit
        for i, name in enumerate(layout.parts["nudge"])
        if name is not None
    }
    return [
        {**{name: float(array[row, i]) * vs for name, array, i in columns}, **nudges}
        for row in range(sources.batch)
    ]
