"""The runner of a circuit system that has no kernels of its own: NumPy loops on its calls.

It serves every :class:`neurosim.engine.system.System` but the crossbar, from the
system's ``field``, ``diagonal`` and ``energy`` alone (one batch, one thread; the
methods are those of :mod:`neurosim.engine.relax`):

- ``"gradient"``: the circuit's own dynamics with unit capacitances, Euler steps
  ``s ← s + h·F(s)`` with ``h = min(step, 1/max_i D_i(s))`` per sample and pass
  (``D = −diag J``), stable on every node however stiff it becomes (a forward-biased
  diode's conductance grows e-fold every 26 mV);
- ``"anderson"``: Anderson acceleration of ``depth`` of the nonlinear-Jacobi map
  ``s ← s + F(s)/D(s)`` (each node moved to where its own current would vanish to first
  order), safeguarded by the merit — the energy where the system has one, else ½‖F‖² —:
  a step that raises it beyond round-off (or is not finite) is halved up to
  ``HALVINGS`` times along the plain Jacobi step, and the sample's history restarts;
- ``"newton"``: Newton steps ``J δ = −F`` with the exact Jacobian (built from the
  system's own ``jacobian`` where it has one, else from its ``jvp`` along every free
  node in one batched call: for circuits with few nodes; not offered by a runner built
  with ``newton=False``, as the oscillators' is, whose saddles can stop it), halved until
  the merit does not rise. With an energy, −J is its Hessian, so on a convex energy
  (the resistor–diode family) δ always descends and the steps converge quadratically;
  the Jacobi map above oscillates there where a junction's conductance grows faster
  than its linearisation predicts (measured: ~200 passes for a 4-node ladder, against
  ~10 Newton steps).

A sample stops at the first pass where max |F| ≤ tolerance and is then left alone.
"""

from __future__ import annotations

import numpy as np

HALVINGS = 40  # 2⁻⁴⁰: from a 1 V jump down to sub-picovolt steps
SLACK = 1e-12  # relative merit rise treated as round-off
REGULARISATION = 1e-12  # of the mixing's normal equations, relative to their trace


class FieldRunner:
    """Runs one method of a solver on ``system`` (see the module docstring)."""

    def __init__(self, system, tol: float, report, newton: bool = True) -> None:
        """``newton``: offer Newton steps (for a convex energy; on a system with many
        minima they can stop at saddles)."""
        self.system, self.tol, self.report = system, tol, report
        self.methods = frozenset({"anderson", "gradient", *(["newton"] if newton else [])})

    def safe_step(self) -> float:
        """The cap of the plain steps, τ (each pass also caps at 1/max D)."""
        return 0.1

    def __call__(self, sources, start, method: str, budget: int, option):
        """``method`` on ``sources`` from ``start`` for at most ``budget`` passes:
        state (batch, free), residual (batch,), passes (batch,)."""
        state = np.array(start, dtype=np.float64, copy=True)
        residual = np.full(len(state), np.inf)
        passes = np.zeros(len(state), dtype=np.int64)
        with np.errstate(all="ignore"):  # NaN/inf end up in the status, not in warnings
            loop = {"anderson": self._anderson, "gradient": self._gradient}.get(
                method, self._newton
            )
            loop(sources, state, residual, passes, budget, option)
        return state.astype(start.dtype), residual, passes

    def _evaluate(self, sources, state: np.ndarray, rows: np.ndarray):
        part = sources.rows(rows)
        field = self.system.field(part, state[rows])
        return part, field, np.max(np.abs(field), axis=1, initial=0.0)

    def _merit(self, part, state: np.ndarray, field: np.ndarray) -> np.ndarray:
        """The energy at ``state``, or ½‖F‖² (``field``: F there) without one."""
        if self.system.has_energy:
            return self.system.energy(part, state)
        return 0.5 * np.sum(field * field, axis=1)

    def _gradient(self, sources, state, residual, passes, budget, step) -> None:
        active = np.arange(len(state))
        for count in range(1, budget + 1):
            part, field, worst = self._evaluate(sources, state, active)
            residual[active], passes[active] = worst, count - 1
            done = ~(worst > self.tol)
            self.report.add(int(np.count_nonzero(done)))
            active, part, field = active[~done], part.rows(np.flatnonzero(~done)), field[~done]
            if active.size == 0:
                return
            stiff = np.max(self.system.diagonal(part, state[active]), axis=1)
            h = np.minimum(step, 1.0 / stiff)
            state[active] += h[:, None] * field
            passes[active] = count
        residual[active] = self._evaluate(sources, state, active)[2]

    def _anderson(self, sources, state, residual, passes, budget, depth) -> None:
        batch, free = state.shape
        d_s = np.zeros((batch, depth, free))  # ring buffers of differences of s and f
        d_f = np.zeros((batch, depth, free))
        pushes = np.zeros(batch, dtype=np.int64)  # differences stored since a restart
        fresh = np.ones(batch, dtype=bool)  # no previous s, f since a restart
        last_s, last_f = np.zeros_like(state), np.zeros_like(state)

        def propose(active, part, s, field):
            f = field / self.system.diagonal(part, s)
            rows = active[~fresh[active]]
            slot = pushes[rows] % depth
            d_s[rows, slot] = state[rows] - last_s[rows]
            d_f[rows, slot] = f[~fresh[active]] - last_f[rows]
            pushes[rows] += 1
            last_s[active], last_f[active], fresh[active] = s, f, False
            used = np.minimum(pushes[active], depth)
            return s + f - _mixed(d_s[active], d_f[active], f, used), f, restart

        def restart(rows: np.ndarray) -> None:  # a rejected step restarts the history
            pushes[rows], fresh[rows] = 0, True

        self._descend(sources, state, residual, passes, budget, propose)

    def _newton(self, sources, state, residual, passes, budget, _option) -> None:
        def propose(active, part, s, field):
            delta = _newton_steps(self._jacobian(part, s), field)
            return s + delta, 0.5 * delta, lambda rows: None

        self._descend(sources, state, residual, passes, budget, propose)

    def _descend(self, sources, state, residual, passes, budget, propose) -> None:
        """The loop both accelerated methods share: ``propose(active, part, s, field)``
        gives each active sample's trial state, the step to halve along where the trial
        raises the merit (:meth:`_safeguard`), and what to do for the rejected rows."""
        active = np.arange(len(state))
        part, field, worst = self._evaluate(sources, state, active)
        merit = self._merit(part, state, field)
        for count in range(1, budget + 1):
            residual[active] = worst
            keep = np.flatnonzero(worst > self.tol)
            self.report.add(active.size - keep.size)
            active, part, field, merit = active[keep], part.rows(keep), field[keep], merit[keep]
            if active.size == 0:
                return
            s = state[active]
            trial, fallback, rejected = propose(active, part, s, field)
            field, merit, accepted = self._safeguard(part, s, fallback, trial, merit)
            rejected(active[~accepted])
            state[active], passes[active] = trial, count
            worst = np.max(np.abs(field), axis=1, initial=0.0)
        residual[active] = worst

    def _jacobian(self, part, s: np.ndarray) -> np.ndarray:
        """J (batch, free, free): the system's own dense Jacobian where it offers one,
        else one ``jvp`` of every sample along every free node's unit vector (batch·free
        rows in one call: the system's work vectorised)."""
        dense = getattr(self.system, "jacobian", None)
        if dense is not None:
            return dense(part, s)
        batch, free = s.shape
        rows = np.repeat(np.arange(batch), free)
        directions = np.tile(np.eye(free), (batch, 1))
        columns = self.system.jvp(part.rows(rows), s[rows], directions)  # row b·free + k: J e_k
        return columns.reshape(batch, free, free).transpose(0, 2, 1)

    def _safeguard(self, part, s, f, trial, merit):
        """Accept ``trial`` where the merit does not rise, else halve the plain step
        ``f`` until it does (``trial`` updated in place); field and merit there, and
        which samples took their accelerated step."""
        field = self.system.field(part, trial)
        new = self._merit(part, trial, field)
        bad = ~(new <= merit + SLACK * (1.0 + np.abs(merit)))
        accepted = ~bad
        scale = 1.0
        for _ in range(HALVINGS):
            if not bad.any():
                break
            rows = np.flatnonzero(bad)
            sub = part.rows(rows)
            trial[rows] = s[rows] + scale * f[rows]
            field[rows] = self.system.field(sub, trial[rows])
            new[rows] = self._merit(sub, trial[rows], field[rows])
            bad[rows] = ~(new[rows] <= merit[rows] + SLACK * (1.0 + np.abs(merit[rows])))
            scale *= 0.5
        return field, new, accepted


def _mixed(d_s: np.ndarray, d_f: np.ndarray, f: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Anderson's correction (d_s + d_f)·γ per sample, γ = argmin ‖f − d_f·γ‖ over the
    ``used`` most recent differences (a regularised least-squares solve)."""
    out = np.zeros_like(f)
    for k in np.flatnonzero(used > 0):
        basis = d_f[k, : used[k]]  # (m, free)
        gram = basis @ basis.T
        gram[np.diag_indices_from(gram)] += REGULARISATION * max(np.trace(gram), 1e-300)
        try:
            gamma = np.linalg.solve(gram, basis @ f[k])
        except np.linalg.LinAlgError:
            continue
        out[k] = gamma @ (d_s[k, : used[k]] + basis)
    return out


def _newton_steps(jacobian: np.ndarray, field: np.ndarray) -> np.ndarray:
    """δ with J δ = −F per sample; NaN where J is singular (the line search rejects it)."""
    try:  # one batched solve; sample by sample only when one of them is singular
        return np.linalg.solve(jacobian, -field[..., None])[..., 0]
    except np.linalg.LinAlgError:
        pass
    out = np.full_like(field, np.nan)
    for k in range(len(field)):
        try:
            out[k] = np.linalg.solve(jacobian[k], -field[k])
        except np.linalg.LinAlgError:
            continue
    return out
