"""The simulated chip: a crossbar circuit, the state of its devices, its lowered arrays.

Everything training and sampling do to the hardware goes through :class:`Chip`, and
only what a host beside a real chip could do: set sources (inputs, spring and nudge
targets, nudge strengths), let the circuit settle, read node voltages and currents,
program devices. The circuit is the one given — an edited netlist keeps its edits, and
every element that is not a trainable device keeps its value — and :meth:`Chip.circuit`
is that circuit after programming (``trained.cir``), never a recompiled copy. A circuit
with added elements the engine cannot fold (an extra diode, a behavioural source) is
settled as written on the general MNA solver, one setting at a time
(:mod:`neurosim.engine.general`; :attr:`Chip.general` says why): training and flow
sampling work on it, slowly; what needs the engine's arrays (energy, power, transients,
released and clamped views) refuses it by name.

Device state is an array per device array (:func:`neurosim.lower.crossbar.read_devices`:
``w<k>.forward``/``w<k>.backward`` (size_a, size_b, 2) for the two arrays of coupling
``k``, ``b_<layer>`` (size, 2) for bias pairs). Programming rewrites those arrays and
re-derives the engine's arrays from them in a few array operations
(:func:`neurosim.lower.crossbar.apply_devices`): no element lookups on the hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from neurosim.circuit.expr import rename
from neurosim.circuit.ir import GROUND, Circuit, Element
from neurosim.circuit.meta import NetworkMeta
from neurosim.circuit.pairs import encode, pair_values
from neurosim.engine.general import GENERAL_SOLVER, equilibrium, solve_settings, source_settings
from neurosim.engine.noise import diffusion, leak_conductance, model_temperature, sampled_rms
from neurosim.engine.readout import activations, node_voltages, row_line_values
from neurosim.engine.relax import Equilibrium, net_current
from neurosim.engine.sources import Sources
from neurosim.errors import CircuitError, ConvergenceError
from neurosim.host.identity import fingerprint, stray_trainable
from neurosim.host.programming import IdealProgrammer, Programmer
from neurosim.host.view import CrossbarView, DerivedView
from neurosim.lower.crossbar import (
    apply_devices,
    lower_crossbar,
    read_devices,
)


class Chip(CrossbarView):
    """A crossbar circuit as a host sees it (module docstring).

    ``programmer`` maps parameter updates onto devices (default: exact devices). The
    parameters are named as the model's (``w<k>``, ``b_<layer>``); :attr:`trained`
    lists those with at least one device the netlist marks trainable.
    """

    def __init__(self, circuit: Circuit, programmer: Programmer | None = None) -> None:
        meta = circuit.network
        if meta is None:
            raise CircuitError("the circuit carries no neurosim network metadata")
        self._circuit = circuit
        try:
            self._crossbar = lower_crossbar(circuit)
            self.general = None  # why the circuit is settled on the general solver
        except CircuitError as error:
            self._crossbar = lower_crossbar(circuit, leave_out=True)
            self.general = str(error)
        self.programmer = programmer or IdealProgrammer()
        self.readout = None  # the host's readout path (devices.periphery.Readout)
        self.drive = None  # the DAC on the input rows (devices.periphery.Drive)
        self._read_rng = np.random.default_rng(0)
        layout = self._crossbar.layout
        self._names = layout.devices
        self._as_read = read_devices(circuit, layout)
        self._devices = {name: g.copy() for name, g in self._as_read.items()}
        scaling = meta.scaling
        self._targets = {name: pair_values(g, scaling) for name, g in self._as_read.items()}
        self._masks = {
            name: np.array([circuit.is_trainable(e) for e in names]).reshape(g.shape)
            for (name, names), g in zip(self._names.items(), self._as_read.values(), strict=True)
        }
        self._arrays = _parameter_arrays(meta, set(self._devices))
        self.trained = tuple(
            p for p, arrays in self._arrays.items() if any(self._masks[a].any() for a in arrays)
        )
        self._pair_gains = self._gains_seen()
        self._whole = {name: bool(mask.all()) for name, mask in self._masks.items()}
        self._pairs = {name: mask.any(axis=-1) for name, mask in self._masks.items()}
        self.version = 0  # counts programming events

    # what the chip is
    @property
    def meta(self) -> NetworkMeta:
        """The network the circuit realises (its ``*@neurosim`` metadata)."""
        return self._crossbar.meta

    def spring(self, layer: str) -> np.ndarray:
        """Spring conductance of each unit of ``layer`` (size,), units of g_unit."""
        return self._crossbar.spring[self.free_slices()[layer]].copy()

    # read (set sources: ``sources()``; settle: ``settle()``, from CrossbarView)
    def voltages(self, sources: Sources, state: np.ndarray) -> dict[str, np.ndarray]:
        """Every node's voltage [V] (node -> (batch,)) with the units at ``state``."""
        return node_voltages(self._crossbar, sources, state)

    def settle(self, sources: Sources, *, throw: bool = False, **options) -> Equilibrium:
        """Let the circuit settle under ``sources`` (through the input DAC if one is set:
        :meth:`set_drive`); ``options`` as :func:`neurosim.engine.relax.relax`. On the
        general solver every setting is solved from 0 V to its own tolerance, and the
        engine's options do not apply."""
        if self.drive is not None:
            sources = replace(sources, inputs=self.drive.set(sources.inputs))
        if self.general is None:
            return super().settle(sources, throw=throw, **options)
        layout, scaling = self._crossbar.layout, self.meta.scaling
        points = solve_settings(self.circuit(), source_settings(layout, scaling, sources))
        settled = equilibrium(points, layout.units, scaling)
        if throw and not settled.ok:
            raise ConvergenceError(settled.summary())
        return settled

    @property
    def note(self) -> str | None:
        """One line for the user when the circuit is not settled by the engine."""
        if self.general is None:
            return None
        return f"settled by the {GENERAL_SOLVER} solver, one setting at a time ({self.general})"

    def stray_trainable(self) -> list[str]:
        """Elements marked trainable that are no device of the arrays: their local update
        is undefined (they join no row line to a column)."""
        return stray_trainable(self._circuit, {n for names in self._names.values() for n in names})

    def _engine_only(self, what: str) -> None:
        """:class:`CircuitError` if the circuit is settled on the general solver."""
        if self.general is not None:
            raise CircuitError(
                f"{what} needs the crossbar engine's arrays, and this circuit is settled on "
                f"the general solver ({self.general})"
            )

    def time_constants(self) -> np.ndarray:
        self._engine_only("the circuit's time constants")
        return super().time_constants()

    def transient(self, sources: Sources, times, **options):
        self._engine_only("a transient")
        return super().transient(sources, times, **options)

    def settling_estimate(self, sources, start, state, tolerance) -> np.ndarray:
        self._engine_only("a settling-time estimate")
        return super().settling_estimate(sources, start, state, tolerance)

    def set_drive(self, drive) -> None:
        """Set the inputs through ``drive`` (a DAC, :class:`neurosim.devices.periphery.
        Drive`; None: exact)."""
        self.drive = drive

    def set_readout(self, readout, seed: int = 0) -> None:
        """Read through ``readout`` (an ADC and output noise; None: exact), its noise
        drawn from a generator seeded by ``seed``."""
        self.readout = readout
        self._read_rng = np.random.default_rng(seed)

    def read(self, state: np.ndarray, layer: str) -> np.ndarray:
        """The units of ``layer`` as the host reads them at ``state`` (batch, free):
        (batch, size), model units, through the readout path if one is set."""
        values = state[:, self.free_slices()[layer]]
        return values if self.readout is None else self.readout.read(values, self._read_rng)

    def outputs(self, state: np.ndarray, layer: str) -> np.ndarray:
        """``layer``'s values at ``state`` exactly (batch, size): what a cost is
        defined on (:meth:`read` is what the host's readout path gives)."""
        return state[:, self.free_slices()[layer]]

    def spring_current(self, sources: Sources, state: np.ndarray, layer: str) -> np.ndarray:
        """Current the springs drive into ``layer``'s nodes, (batch, size), in units of
        vs·g_unit: λ(t − s)."""
        where = self.free_slices()[layer]
        spring = self._crossbar.spring[where]
        return spring * (sources.targets[:, where] - state[:, where])

    def velocity(self, sources: Sources, state: np.ndarray, alpha: float, layer: str) -> np.ndarray:
        """The spring readout v = αλ(x* − x_t) = −α · spring current, (batch, size); the
        spring current read through the readout path if one is set (its ADC range and
        noise in units of vs·g_unit)."""
        current = self.spring_current(sources, state, layer)
        if self.readout is not None:
            current = self.readout.read(current, self._read_rng)
        return -alpha * current

    def energy(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        """The circuit's energy E (model units) at ``state`` (batch, free), (batch,);
        :class:`CircuitError` for a circuit without one (:mod:`neurosim.engine.energy`)."""
        from neurosim.engine.energy import energy

        self._engine_only("the circuit's energy")
        return energy(self._crossbar, sources, state)

    def power(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        """Heat [W] the resistive elements dissipate at ``state`` (batch, free), (batch,)."""
        from neurosim.engine.energy import dissipated_power

        self._engine_only("the dissipated power")
        return dissipated_power(self._crossbar, sources, state)

    def net_current(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        """Each free node's net current ÷ (vs·g_unit), (batch, free): one pass at ``state``."""
        self._engine_only("the net currents")
        return net_current(self._crossbar, sources, state)

    def local_gradients(self, sources: Sources, state: np.ndarray) -> dict[str, np.ndarray]:
        """Batch-mean ∂E/∂θ of every trained parameter at ``state`` (batch, free).

        What each device pair sees, read off the node voltages: the row-line value of
        its row unit r (the line voltage ÷ (k_p·vs): ρ through the driver's offset and
        limits) and the column unit's. A coupling realised by two arrays has the energy
        term −r_a·W·r_b, so ∂E/∂θ = −k·r_aᵀr_b with k the pair's driver gain (the mean
        of the two arrays'); a clamped input's single array −k·r_aᵀρ_b. Bias pairs sit
        between the rails: ∂E/∂θ = −ρ·(V_p − V_n)/(2 vs).
        """
        cb = self._crossbar
        acts = activations(cb, sources, state)
        rows = row_line_values(cb, sources, state) if cb.transforms_rows() else acts
        batch = state.shape[0]
        out = {}
        for k, (a, b) in enumerate(self.meta.couplings):
            name = f"w{k}"
            if name not in self.trained:
                continue
            column = rows[b] if f"w{k}.backward" in self._devices else acts[b]
            seen = rows[a].T @ column
            scale = self._pair_gains[name]
            out[name] = -(seen if scale is None else seen * scale) / batch
        rails = cb.rails
        span = (rails[0] - rails[1]) / (2.0 * self.meta.scaling.volts_per_unit)
        for layer in self.free_slices():
            name = f"b_{layer}"
            if name in self.trained:
                out[name] = -(acts[layer] * span).mean(axis=0)
        return out

    def adjoint(self, sources: Sources, state: np.ndarray, cotangent: np.ndarray) -> np.ndarray:
        """μ (batch, free) with Jᵀμ = ``cotangent`` (batch, free) at the equilibria
        ``state``: the transposed small-signal system (:mod:`neurosim.engine.adjoint`)."""
        from neurosim.engine.adjoint import adjoint_state
        from neurosim.engine.crossbar_system import CrossbarSystem

        self._engine_only("the adjoint")
        return adjoint_state(CrossbarSystem(self._crossbar), sources, state, cotangent)

    def adjoint_gradients(
        self, sources: Sources, state: np.ndarray, adjoint: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Batch-mean μᵀ∂F/∂θ of every trained parameter at ``state`` (batch, free) with
        the adjoint ``adjoint`` (batch, free): each device's μ_i·g_i·r_j, μ and g of the
        unit whose column it feeds, r the value of its row (:mod:`neurosim.engine.
        adjoint`). A parameter realised by both arrays of a coupling sums its two
        devices'; a non-reciprocal network's ``w<k>`` is its forward array only and
        ``w<k>_back`` its backward one."""
        from neurosim.engine.crossbar_system import CrossbarSystem

        self._engine_only("the adjoint")
        cb = self._crossbar
        acts = activations(cb, sources, state)
        rows = row_line_values(cb, sources, state) if cb.transforms_rows() else acts
        pulled = np.asarray(adjoint) * CrossbarSystem(cb).unit_gains(sources, state)
        at = {layer: pulled[:, where] for layer, where in self.free_slices().items()}
        batch = state.shape[0]
        out = {}
        for k, (a, b) in enumerate(self.meta.couplings):
            forward = rows[a].T @ at[b]
            backward = at[a].T @ rows[b] if a in at else None
            scale = self._pair_gains[f"w{k}"]
            scale = 1.0 if scale is None else scale
            if f"w{k}_back" in self._arrays:
                parts = {f"w{k}": forward, f"w{k}_back": backward}
            else:
                parts = {f"w{k}": forward if backward is None else forward + backward}
            out.update({n: v * scale / batch for n, v in parts.items() if n in self.trained})
        span = (cb.rails[0] - cb.rails[1]) / (2.0 * self.meta.scaling.volts_per_unit)
        for layer in self.free_slices():
            if f"b_{layer}" in self.trained:
                out[f"b_{layer}"] = (at[layer] * span).mean(axis=0)
        return out

    # program
    def program(self, deltas: Mapping[str, np.ndarray]) -> None:
        """Move each parameter by ``deltas[name]`` (model units, the parameter's shape)
        through the programmer; only devices marked trainable change."""
        for name, delta in deltas.items():
            if name not in self.trained:
                raise KeyError(f"{name} is not a trained parameter of this chip")
            delta = np.asarray(delta, dtype=np.float64)
            for array in self._arrays[name]:
                pairs = self._devices[array]
                if delta.shape != pairs.shape[:-1]:
                    raise ValueError(
                        f"{name}: update of shape {delta.shape}, expected {pairs.shape[:-1]}"
                    )
                step = delta if self._whole[array] else np.where(self._pairs[array], delta, 0.0)
                self._targets[array] += step
                self._write(array, step)
        apply_devices(self._crossbar, self._devices)
        self.version += 1

    def rewrite(self) -> None:
        """Write every trained parameter's devices afresh to the host's targets through
        the programmer (what starting a run on a chip's devices does)."""
        for name in self.trained:
            for array in self._arrays[name]:
                self._write(array)
        apply_devices(self._crossbar, self._devices)
        self.version += 1

    def _write(self, array: str, step: np.ndarray | None = None) -> None:
        """Program ``array``'s pairs toward their targets through the programmer
        (``step``: the update that moved the targets; None: a fresh write); only the
        devices marked trainable change."""
        pairs = self._devices[array]
        new = self.programmer.program(pairs, self._targets[array], self.meta.scaling, array, step)
        self._devices[array] = (
            new if self._whole[array] else np.where(self._masks[array], new, pairs)
        )

    def set_values(self, values: Mapping[str, np.ndarray]) -> None:
        """Program the pairs of each parameter in ``values`` to the compiler's encoding of
        it (both arrays of a coupling alike), exactly: to load parameters saved by an
        earlier version (``neurosim-checkpoint/2``)."""
        scaling = self.meta.scaling
        for name, value in values.items():
            value = np.asarray(value, dtype=np.float64)
            encoded = encode(value, scaling)  # both arrays of a coupling take the same pairs
            for array in self._arrays[name]:
                self._targets[array] = np.where(self._pairs[array], value, self._targets[array])
                self._devices[array] = np.where(self._masks[array], encoded, self._devices[array])
        apply_devices(self._crossbar, self._devices)
        self.version += 1

    def targets(self) -> dict[str, np.ndarray]:
        """Every parameter's value as the host last asked for it (model units), read
        off its forward array's targets: what the devices would hold if exact."""
        return {p: self._targets[a[0]].copy() for p, a in self._arrays.items()}

    def parameters(self) -> dict[str, np.ndarray]:
        """Every parameter's value θ = (G⁺ − G⁻)/g_unit, read off its forward array."""
        scaling = self.meta.scaling
        return {p: pair_values(self._devices[a[0]], scaling) for p, a in self._arrays.items()}

    def injection_elements(self) -> list[str]:
        """The name of each free unit's injection amplifier (F or B source), in the
        order of the units."""
        return list(self._crossbar.layout.parts["injection"])

    def driver_elements(self) -> list[tuple[str, str, str]]:
        """Each row driver (the amplifier driving a unit's positive row line) as (element
        name, the unit's node, its layer), in the order of the row units."""
        layout = self._crossbar.layout
        layers = [n for n in layout.row_layers for _ in range(self.meta.layer(n).size)]
        return list(zip(layout.drivers, layout.rows, layers, strict=True))

    def device_state(self) -> dict[str, np.ndarray]:
        """A copy of what a checkpoint stores: every device's conductance [S]
        (``conductance/<array>``) and the host's target of every pair
        (``target/<array>``, model units), and the programmer's own state if it keeps
        one (``programmer/...``: pulsed devices' hidden weights)."""
        state = {f"conductance/{name}": g.copy() for name, g in self._devices.items()}
        state.update({f"target/{name}": t.copy() for name, t in self._targets.items()})
        state.update({f"programmer/{k}": v for k, v in self._programmer_state().items()})
        return state

    def load_device_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Put the devices and targets of ``state`` (from :meth:`device_state`) back."""
        expected = {
            f"{kind}/{name}" for kind in ("conductance", "target") for name in self._devices
        }
        expected |= {f"programmer/{key}" for key in self._programmer_state()}
        if set(state) != expected:
            raise CircuitError("the saved device state is for another circuit")
        own = {k.split("/", 1)[1]: v for k, v in state.items() if k.startswith("programmer/")}
        if own:
            self.programmer.load_state(own)
        for key, value in state.items():
            kind, name = key.split("/", 1)
            if kind == "programmer":
                continue
            store = self._devices if kind == "conductance" else self._targets
            if np.shape(value) != store[name].shape:
                raise CircuitError(f"the saved {kind}s of {name} have another shape")
            store[name] = np.array(value, dtype=np.float64)
        apply_devices(self._crossbar, self._devices)
        self.version += 1

    def _programmer_state(self) -> dict[str, np.ndarray]:
        state = getattr(self.programmer, "state", None)
        return state() if state is not None else {}

    def circuit(self, title: str | None = None) -> Circuit:
        """The circuit with its devices as programmed: every other element, and every
        device not programmed since it was read, exactly as given."""
        elements = dict(self._circuit.elements)
        for array, names in self._names.items():
            now, then = self._devices[array].ravel(), self._as_read[array].ravel()
            for index in np.flatnonzero(now != then):
                name = names[index]
                elements[name] = replace(elements[name], value=float(1.0 / now[index]))
        return replace(self._circuit, title=title or self._circuit.title, elements=elements)

    def fingerprint(self) -> str:
        """:func:`neurosim.host.identity.fingerprint` over the devices."""
        return fingerprint(self._circuit, {n for names in self._names.values() for n in names})

    def release(self, layer: str):
        """A read-only view of the chip with free ``layer``'s springs disconnected: its
        units move with the circuit's own dynamics (:class:`ReleasedChip`)."""
        self._engine_only("a released view")
        return ReleasedChip(self, layer)

    def hold(self, layer: str, tau: float):
        """The chip with visible ``layer``'s spring targets held by capacitors of time
        constant ``tau`` [s]: it integrates its own field (:class:`neurosim.host.held.
        HeldChip`)."""
        from neurosim.host.held import HeldChip

        return HeldChip(self, layer, tau)

    def clamp(self, layer: str):
        """A read-only view of the chip with free ``layer`` held by voltage sources
        (:class:`neurosim.host.clamp.ClampedChip`)."""
        from neurosim.host.clamp import ClampedChip

        self._engine_only("a clamped view")
        return ClampedChip(self, self._crossbar, layer)

    def _gains_seen(self) -> dict[str, np.ndarray | None]:
        """Coupling -> the row drivers' gain each pair sees, (size_a, size_b): k_p of its
        row unit, the mean of the two arrays' for a coupling with both; None if all 1."""
        gains = {layer.name: np.ones(layer.size) for layer in self.meta.layers}
        gains.update({name: g[:, 0] for name, g in self._crossbar.layer_gains.items()})
        out = {}
        for k, (a, b) in enumerate(self.meta.couplings):
            if f"w{k}.backward" in self._devices:
                seen = 0.5 * (gains[a][:, None] + gains[b][None, :])
            else:
                seen = np.broadcast_to(gains[a][:, None], (gains[a].size, gains[b].size))
            out[f"w{k}"] = None if np.all(seen == 1.0) else np.array(seen)
        return out


def _parameter_arrays(meta: NetworkMeta, arrays: set[str]) -> dict[str, tuple[str, ...]]:
    """Parameter name -> the device arrays that realise it (forward array first; a
    non-reciprocal network's backward arrays are parameters of their own)."""
    out = {}
    for k in range(len(meta.couplings)):
        both = tuple(a for a in (f"w{k}.forward", f"w{k}.backward") if a in arrays)
        if meta.reciprocal or len(both) == 1:
            out[f"w{k}"] = both
        else:
            out[f"w{k}"], out[f"w{k}_back"] = both[:1], both[1:]
    for layer in meta.layers:
        if layer.kind != "input":
            out[f"b_{layer.name}"] = (f"b_{layer.name}",)
    return out


class ReleasedChip(DerivedView):
    """``chip`` with the springs of free ``layer`` disconnected (the layer's units then
    descend the circuit's energy by themselves); states are the chip's."""

    kind = "released"

    def __init__(self, chip: Chip, layer: str) -> None:
        where = chip.free_slices()[layer]
        spring = chip._crossbar.spring.copy()
        spring[where] = 0.0
        self.chip, self.layer, self._version = chip, layer, chip.version
        self._crossbar = replace(chip._crossbar, spring=spring)

    def noise(self, temperature: float) -> np.ndarray:
        """σ (free,) [model units/√s]: the released units' thermal noise at
        ``temperature`` [K], as :func:`neurosim.engine.noise.diffusion`; 0 elsewhere."""
        return diffusion(self._crossbar, temperature, self.free_slices()[self.layer])

    def model_temperature(self, temperature: float) -> float:
        """The released units' θ at ``temperature`` [K] (their largest, dimensionless:
        :func:`neurosim.engine.noise.model_temperature`)."""
        where = self.free_slices()[self.layer]
        return float(np.max(model_temperature(self._crossbar, temperature, where)))

    def inertia(self, inductance: float) -> np.ndarray:
        """L·G (free,) [s] of an inductor of ``inductance`` [H] in series with each
        released unit's capacitor (G: its leak conductance), 0 elsewhere: the
        transient's ``inertia`` (:mod:`neurosim.engine.transient`)."""
        if not (np.isfinite(inductance) and inductance >= 0):
            raise ValueError(f"the inductance must be >= 0 henries, not {inductance!r}")
        out = np.zeros(self.free)
        where = self.free_slices()[self.layer]
        out[where] = inductance * leak_conductance(self._crossbar)[where]
        return out

    def circuit(
        self,
        title: str | None = None,
        start: np.ndarray | None = None,
        temperature: float = 0.0,
        interval: float | None = None,
        inductance: float = 0.0,
    ) -> Circuit:
        """The released circuit, valid ngspice: the chip's circuit without the released
        layer's spring resistors; with ``start`` (free,) [model units] its unit
        capacitors start there (``ic=``, for ``.tran ... uic``); with ``temperature`` > 0
        [K] each released node gets a noise current source ``trnoise`` of the leak's
        Johnson density, samples ``interval`` [s] apart (:mod:`neurosim.engine.noise`);
        with ``inductance`` > 0 [H] an inductor ``lm_<unit>`` (``ic=0``) sits between
        each released node and its capacitor, which moves to node ``<unit>_m`` where
        the row driver now reads it (the transient's ``inertia``). The layer's springs
        must be the only ones (a flow or EqM circuit's)."""
        self._check()
        circuit = self.chip.circuit(title)
        if title is None:
            circuit = replace(circuit, title=f"{circuit.title} ({self.layer} released)")
        meta = circuit.network
        kept = [l.name for l in meta.layers if l.kind == "visible" and l.name != self.layer]
        if meta.spring_lambda > 0 and kept:
            raise CircuitError(f"releasing {self.layer} leaves springs on {', '.join(kept)}")
        elements = dict(circuit.elements)
        parts, units = self._crossbar.layout.parts, self._crossbar.layout.units
        where = self.free_slices()[self.layer]
        for name in [*parts["spring"][where], *parts["spring_source"][where]]:
            if name is not None:
                del elements[name]
        structure = circuit.structure
        layer_parts = {
            k: v for k, v in structure.units[self.layer].items() if not k.startswith("spring")
        }
        structure = replace(structure, units={**structure.units, self.layer: layer_parts})
        circuit = replace(circuit, network=replace(meta, spring_lambda=0.0), structure=structure)
        if start is not None:
            volts = np.asarray(start, dtype=np.float64) * self.chip.meta.scaling.volts_per_unit
            if volts.shape != (self.free,) or not np.all(np.isfinite(volts)):
                raise ValueError(f"start must be {self.free} finite values (one per unit)")
            for name, value in zip(parts["capacitor"], volts, strict=True):
                elements[name] = replace(elements[name], ic=float(value))
        if temperature > 0:
            if interval is None:
                raise ValueError("a noisy released circuit needs the noise sample interval")
            rms = sampled_rms(self._crossbar, temperature, where, interval)
            for unit, amplitude in zip(units[where], rms, strict=True):
                name = f"inoise_{unit}"
                if name in elements:
                    raise CircuitError(f"the circuit already has an element {name}")
                extra = f"trnoise({amplitude:.6g} {interval:.6g} 0 0)"
                elements[name] = Element(name, (GROUND, unit), 0.0, extra=extra)
        if inductance > 0:
            layout = self._crossbar.layout
            drivers = dict(zip(layout.rows, layout.drivers, strict=True))
            _add_inductors(elements, parts["capacitor"][where], units[where], drivers, inductance)
        return replace(circuit, elements=elements)


def _add_inductors(
    elements: dict, capacitors: list, units: list, drivers: dict, henries: float
) -> None:
    """An inductor between each of ``units`` and its capacitor, which moves to a node of
    its own that the unit's row driver (``drivers``: unit -> name) now reads."""
    inner = {unit: f"{unit}_m" for unit in units}
    for unit, capacitor in zip(units, capacitors, strict=True):
        name = f"lm_{unit}"
        if name in elements:
            raise CircuitError(f"the circuit already has an element {name}")
        moved = elements[capacitor]
        elements[capacitor] = replace(moved, nodes=(inner[unit], *moved.nodes[1:]))
        elements[name] = Element(name, (unit, inner[unit]), henries, ic=0.0)
        if unit not in drivers:
            continue  # a unit that drives no array
        drive = elements[drivers[unit]]
        if drive.expr is not None:
            read = rename(drive.expr, lambda n: inner.get(n, n), lambda e: e)
            elements[drive.name] = replace(drive, expr=read)
        else:  # an E source: its controlling pair
            control = tuple(inner.get(n, n) for n in drive.nodes[2:])
            elements[drive.name] = replace(drive, nodes=(*drive.nodes[:2], *control))
