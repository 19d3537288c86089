"""Operating points and transients of a SPICE netlist computed by ngspice (the outside reference).

:func:`operating_points` loads a netlist once and, for each entry of ``settings`` (a
mapping independent-source name -> DC value), sets those DC values with ngspice's
``alter``, runs ``op`` and returns every node voltage and branch current.

Settings are not cumulative: each run sees the netlist's own DC values plus that run's
own entries. A source changed by an earlier run is put back to its netlist value (kept
in an ngspice vector, so exactly) when a later run does not name it. Every ``op`` starts
from ngspice's usual initial guess (``.nodeset`` if any), not from the previous run's
solution, so a run gives what a netlist with those values written in gives. Setting
values reach ngspice exactly; numbers in the netlist text go through ngspice's parser,
which is not correctly rounded (about a third of random decimals come out 1 ulp off, e.g.
``0.3`` -> 0.30000000000000004), so the two agree to ~1e-16 relative, not to the bit.

:func:`transients` does the same with ``tran tstep tstop 0 [tmax] [uic]`` and returns
every time point ngspice output (its own adaptive steps, never interpolated) with every
node voltage and branch current there. With ``uic`` (the default) ngspice skips the
initial operating point: capacitors start from their ``ic=`` values (0 if none), and
ngspice outputs no row for t = 0, so the first row is its first, tiny, backward Euler step
(at ``min(tstep, tstop/100)/100`` when ``tstep`` <= ``tstop``/100). Times increase
strictly; waveform corners (breakpoints) and ``tstop`` are hit to within an ulp or so
(ngspice adds up its steps). The error is set by the step size, not by
:data:`DEFAULT_OPTIONS`' tight ``reltol``: ngspice's default trapezoidal integration of an
RC charging curve is off the exponential by 3.0e-6 of its height with ``tmax`` = RC/100 and
by 2.7e-8 with ``tmax`` = RC/1000.

Backends:

- ``"shared"``: ngspice's shared library, in-process, through PySpice's
  ``NgSpiceShared`` (the one instance PySpice allows per process). Calls are serialised
  by a lock; ngspice's output is captured (used for error messages, never printed) and
  PySpice's loggers are silenced during calls; after each call the circuit, the plots
  and the helper vectors it created are removed. The variable ``filetype`` is left at
  ``binary``.
- ``"batch"``: an ``ngspice -b`` subprocess running a generated control script, killed
  after ``timeout`` seconds.
- ``"auto"``: shared, or batch if PySpice or libngspice cannot be loaded.

Both read results from binary raw files (exact float64) and agree bit for bit.

The netlist is written to a temporary file and loaded with ngspice's ``source``
command, so line numbers in ngspice's messages are the netlist's own. Measured on two
~100k-line netlists (a random network: 100k resistors, 832 nodes, 256 tanh B sources,
256 diodes; a 64-128-128 layered crossbar: 98,304 resistors, 640 B sources, 1,921
equations) on a 2-vCPU VM whose speed varied up to 6x with host load: ``source`` 0.5-0.7
s, PySpice's ``load_circuit`` 0.65-0.75 s; ``op`` 1-7 s, nearly all of it Sparse 1.3's
matrix reordering, which ngspice redoes at the start of every ``op`` (no KLU in this
build).

Tolerances (:data:`DEFAULT_OPTIONS`, ngspice's defaults in brackets): ``reltol=1e-7``
[1e-3], ``vntol=1e-12`` V [1e-6], ``abstol=1e-15`` A [1e-12]; ``gmin`` stays at 1e-12 S
(ngspice adds it across junctions only) and no other shunt is added. ngspice stops Newton
once a step is below ``reltol*|v| + vntol``; with quadratic convergence the returned point
is then within about that step squared of the solution. Against the Shockley equation
solved exactly (40 random diode + resistor circuits) ngspice's defaults are off by up to
6e-6 V, reltol 1e-6 by up to 3e-12 V, reltol 1e-7 by up to 2e-15 V. Tighter is not
always better: ngspice cannot converge when round-off between two Newton iterates exceeds
the tolerance. A diode with ``rs=0.01`` carrying nA through 1 GOhm (conductances 1e11
apart) converges at reltol 1e-7 and 1e-8 but not at 1e-9, and such a failing ``op``
spends tens of thousands of iterations in gmin and source stepping before giving up;
crossbars with wire resistance, tanh B sources and diodes converged down to 1e-12.
``options`` overrides or adds ngspice options (they win over the netlist's ``.options``).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import numpy as np

from neurosim.errors import NeurosimError, SimulatorMissingError
from neurosim.spice.rawfile import RawPlot, read_raw

INSTALL_HINT = (
    "ngspice is not installed (needed for cross-checks): "
    "apt-get install ngspice libngspice0 libngspice0-dev"
)
DEFAULT_OPTIONS: Mapping[str, float] = MappingProxyType(
    {"reltol": 1e-7, "vntol": 1e-12, "abstol": 1e-15}
)
BATCH_TIMEOUT = 600.0  # seconds for one ngspice -b run (load and all operating points)
BACKENDS = ("auto", "shared", "batch")

_SOURCE_NAME = re.compile(r"[vi][^\s=(){}\[\],;]*")
_OPTION_NAME = re.compile(r"[a-z][a-z0-9_]*")
_ERROR_START = re.compile(r"^(error\b|command '.*' failed)|simulation\(s\) aborted", re.I)
_NOISE = re.compile(r"^(warning|note|trying gmin|supplies reduced)", re.I)
_INTERRUPTED = re.compile(r"^simulation interrupted", re.I)  # ends a load error
_END = re.compile(r"simulation\(s\) aborted", re.I)  # ends an analysis error
_CIRCUIT_LINE = re.compile(r"(current\s+)?\d+\s", re.I)
_LOCK = threading.RLock()

T = TypeVar("T")


class NgspiceError(NeurosimError):
    """ngspice rejected the netlist or a setting, or found no operating point or transient."""


@dataclass(frozen=True)
class OperatingPoint:
    """One ngspice operating point.

    ``voltages``: node name (lower case) -> volts; ground ``"0"`` is not included.
    ``currents``: element name (lower case) -> amperes, for every element ngspice gives a
    branch current (V, E, H, L and voltage-type B elements), with ngspice's sign: positive
    current flows from the element's + node through it to its - node.
    """

    voltages: dict[str, float]
    currents: dict[str, float]


@dataclass(frozen=True)
class Transient:
    """One ngspice transient, at ngspice's own output time points.

    ``time``: (n,) seconds, increasing; with ``uic`` it starts after t = 0 (see the module
    doc). ``voltages``: node name (lower case) -> (n,) volts; ``currents``: element name
    (lower case) -> (n,) amperes, with the names and signs of :class:`OperatingPoint`.
    """

    time: np.ndarray
    voltages: dict[str, np.ndarray]
    currents: dict[str, np.ndarray]


def ngspice_available() -> bool:
    """True if the ngspice shared library or the ``ngspice`` executable can be used."""
    return _shared_ngspice() is not None or _executable() is not None


def require_ngspice() -> None:
    """Raise :class:`SimulatorMissingError` (one line, with the install command) if not."""
    if not ngspice_available():
        raise SimulatorMissingError(INSTALL_HINT)


def operating_points(
    netlist: str,
    settings: Sequence[Mapping[str, float]] = ({},),
    *,
    backend: str = "auto",
    options: Mapping[str, float] | None = None,
    timeout: float = BATCH_TIMEOUT,
    progress: Callable[[], None] | None = None,
) -> list[OperatingPoint]:
    """ngspice ``op`` of ``netlist`` for each entry of ``settings`` (see the module doc).

    ``timeout`` bounds the batch backend's subprocess; the shared backend runs ngspice's
    ``op`` in-process, which ends by itself (iteration limits) but cannot be interrupted.
    ``progress`` is called once per finished operating point (by the batch backend, all
    at the end).
    """
    return _simulate(netlist, settings, "op", _operating_point, backend, options, timeout, progress)


def transients(
    netlist: str,
    settings: Sequence[Mapping[str, float]] = ({},),
    *,
    tstop: float,
    tstep: float,
    tmax: float | None = None,
    uic: bool = True,
    backend: str = "auto",
    options: Mapping[str, float] | None = None,
    timeout: float = BATCH_TIMEOUT,
    progress: Callable[[], None] | None = None,
) -> list[Transient]:
    """ngspice ``tran tstep tstop 0 [tmax] [uic]`` of ``netlist`` for each of ``settings``.

    Settings, backends, ``options``, ``timeout`` and ``progress`` are as for
    :func:`operating_points`; a setting changes a source's DC value, which is its transient
    value unless the netlist gives it a waveform (``pulse``, ``sin``, ...). ``tstep`` is
    ngspice's suggested step (it sets the first step and waveform defaults), ``tmax`` the
    largest step it may take (ngspice's default: ``min(tstep, tstop/50)``); the accuracy
    is set by ``tmax`` (see the module doc). Without ``uic`` ngspice starts from its
    operating point (devices' ``ic=`` ignored) and outputs it at t = 0.
    """
    stop = _positive(tstop, "tran tstop")
    step = _positive(tstep, "tran tstep")
    if step > stop:
        raise NgspiceError(f"tran tstep {tstep!r} is larger than tstop {tstop!r}")
    command = f"tran {step!r} {stop!r} 0"
    if tmax is not None:
        command += f" {_positive(tmax, 'tran tmax')!r}"
    if uic:
        command += " uic"
    return _simulate(netlist, settings, command, _transient, backend, options, timeout, progress)


def _simulate(
    netlist: str,
    settings: Sequence[Mapping[str, float]],
    analysis: str,
    read: Callable[[Path], T],
    backend: str,
    options: Mapping[str, float] | None,
    timeout: float,
    progress: Callable[[], None] | None,
) -> list[T]:
    """Run ``analysis`` once per setting on the chosen backend; ``read`` each raw file."""
    progress = progress or (lambda: None)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    runs = [
        _check_names(
            setting, _SOURCE_NAME, "setting", "not the name of an independent V or I source"
        )
        for setting in settings
    ]
    checked = _check_names(options or {}, _OPTION_NAME, "ngspice option", "not an option name")
    opts = {**DEFAULT_OPTIONS, **checked}
    if not runs:
        return []
    ngspice = _shared_ngspice() if backend in ("auto", "shared") else None
    if ngspice is not None:
        return _run_shared(ngspice, netlist, runs, opts, analysis, read, progress)
    if backend == "shared" and _executable() is not None:  # else: nothing is installed
        why = _SHARED_FAILURE[0] if _SHARED_FAILURE else "it did not load"
        raise SimulatorMissingError(
            f"the shared ngspice backend is unavailable: {why}; install it: "
            "apt-get install libngspice0 libngspice0-dev (or unset NGSPICE_LIBRARY_PATH), "
            "or use --backend batch"
        )
    executable = _executable() if backend in ("auto", "batch") else None
    if executable is None:
        raise SimulatorMissingError(INSTALL_HINT)
    results = _run_batch(executable, netlist, runs, opts, analysis, read, timeout)
    for _ in results:
        progress()
    return results


# --- finding ngspice ---------------------------------------------------------------


@cache
def _shared_ngspice() -> Any:
    """PySpice's ``NgSpiceShared`` instance, or None if PySpice or libngspice won't load.

    Cached either way: PySpice cannot retry a failed load in the same process.
    """
    try:
        from PySpice.Spice.NgSpice.Shared import NgSpiceShared
    except ImportError:
        _SHARED_FAILURE.append("PySpice is not installed")
        return None
    with _LOCK, _quiet_pyspice():
        try:
            return NgSpiceShared.new_instance()
        except OSError as exc:  # cffi's dlopen: library not found or not loadable
            _SHARED_FAILURE.append(f"libngspice could not be loaded ({exc})")
        except AttributeError:  # a library that is not ngspice (no ngSpice_Init)
            library = os.environ.get("NGSPICE_LIBRARY_PATH", "the default libngspice")
            _SHARED_FAILURE.append(f"{library} is not an ngspice library (no ngSpice_Init)")
        return None


_SHARED_FAILURE: list[str] = []  # why the shared library did not load (one entry at most)


def _executable() -> str | None:
    return shutil.which("ngspice")


@contextlib.contextmanager
def _quiet_pyspice() -> Iterator[None]:
    """Silence PySpice's loggers (version warning, every ngspice stderr line)."""
    logger = logging.getLogger("PySpice")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


# --- checking the arguments ---------------------------------------------------------


def _check_names(
    values: Mapping[str, float], pattern: re.Pattern, what: str, expected: str
) -> dict[str, float]:
    """Lower-cased ``values`` whose names match ``pattern`` and whose values are finite."""
    checked: dict[str, float] = {}
    for name, value in values.items():
        key = str(name).lower()
        if not pattern.fullmatch(key):
            raise NgspiceError(f"{what} {name!r}: {expected}")
        checked[key] = _finite(value, f"{what} {name!r}")
    return checked


def _finite(value: float, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise NgspiceError(f"{what}: value {value!r} is not a finite number")
    return number


def _positive(value: float, what: str) -> float:
    number = _finite(value, what)
    if number <= 0:
        raise NgspiceError(f"{what}: value {value!r} is not positive")
    return number


# --- ngspice commands shared by both backends ------------------------------------------


def _saved(index: int) -> str:
    """Name of the ngspice vector holding the netlist's DC value of the index-th source."""
    return f"neurosim_dc_{index}"


def _prelude(options: Mapping[str, float], keys: Sequence[str]) -> list[str]:
    """Commands run once after ``source``: options, save everything, keep DC values."""
    commands = [f"option {key}={value!r}" for key, value in options.items()]
    commands.append("save all")
    if keys:
        commands.append("setplot const")  # vectors in 'const' are visible from every plot
        commands += [f"let {_saved(i)} = @{key}[dc]" for i, key in enumerate(keys)]
    return commands


def _alterations(keys: Sequence[str], runs: Sequence[Mapping[str, float]]) -> list[list[str]]:
    """Per run, the ``alter`` commands taking the previous run's DC values to this run's."""
    current: dict[str, float | None] = dict.fromkeys(keys)  # None: the netlist's own value
    per_run = []
    for run in runs:
        commands = []
        for i, key in enumerate(keys):
            value = run.get(key)
            if value != current[key]:
                commands.append(f"alter {key} dc = {_saved(i) if value is None else _exact(value)}")
                current[key] = value
        per_run.append(commands)
    return per_run


def _exact(value: float) -> str:
    """An ngspice expression that evaluates to exactly ``value``.

    ngspice's number parser can be 1 ulp off (``0.3`` gives 0.30000000000000004); an odd
    integer below 2**53, a power of two and their product are all exact.
    """
    numerator, denominator = value.as_integer_ratio()
    if denominator > 1:
        return f"{numerator}*2^(-{denominator.bit_length() - 1})"
    shift = (numerator & -numerator).bit_length() - 1 if numerator else 0
    return f"{numerator >> shift}*2^({shift})"


def _write_results(raw: Path) -> list[str]:
    """Commands writing the current plot to ``raw``.

    ngspice's ``write`` mangles a plot holding a single vector (it adds a copy named
    ``all``); a padding vector, which has no type and is skipped when reading, avoids that.
    """
    return ["let neurosim_pad = 0", f"write {raw}"]


def _write_circuit(directory: str, netlist: str) -> Path:
    path = Path(directory, "circuit.cir")
    if any(char.isspace() for char in str(path)):
        raise NgspiceError(
            f"ngspice cannot source {path} (whitespace in the path); "
            "set TMPDIR to a directory without spaces"
        )
    path.write_text(netlist if netlist.endswith("\n") else netlist + "\n", encoding="utf-8")
    return path


def _error_message(lines: Sequence[str]) -> str | None:
    """ngspice's own error text among its output lines (one line), or None if no error."""
    text = [" ".join(line.split()) for line in lines]
    text = [line for line in text if line]
    start = next((i for i, line in enumerate(text) if _ERROR_START.search(line)), None)
    if start is None:
        return None
    message = text[start]
    for line in text[start + 1 : start + 12]:
        if _END.search(message) or _INTERRUPTED.match(line):
            break
        if not _NOISE.match(line):
            message += (" " if message.endswith(":") else "; ") + line
    return message if len(message) <= 400 else message[:397] + "..."


def _failure(analysis: str, j: int) -> str:
    """What went wrong when ngspice's ``analysis`` of setting ``j`` reported an error."""
    if analysis == "op":
        return f"ngspice found no operating point (setting {j})"
    return f"ngspice {analysis.split()[0]} failed (setting {j})"


def _columns(plot: RawPlot) -> tuple[dict[str, int], dict[str, int]]:
    """Columns of ``plot`` holding node voltages and branch currents, by neurosim's names.

    ngspice names them ``v(node)``/``node`` and ``i(element)``/``element#branch``; the
    names are lower-cased and unwrapped. The time vector and untyped vectors are skipped.
    """
    voltages: dict[str, int] = {}
    currents: dict[str, int] = {}
    for column, (name, kind) in enumerate(plot.variables):
        name = name.lower()
        if name.startswith("@"):  # device parameters (.options savecurrents), not branches
            continue
        if name.endswith("#branch"):
            name = name[: -len("#branch")]
        elif len(name) > 3 and name[0] in "vi" and name[1] == "(" and name[-1] == ")":
            name = name[2:-1]
        if kind == "voltage":
            voltages[name] = column
        elif kind == "current":
            currents[name] = column
    return voltages, currents


def _operating_point(raw: Path) -> OperatingPoint:
    plot = read_raw(raw)[-1]
    if plot.values.shape[0] != 1:
        raise NgspiceError(f"ngspice wrote {plot.values.shape[0]} points for an operating point")
    values = plot.values[0].tolist()
    voltages, currents = _columns(plot)
    return OperatingPoint(
        voltages={name: values[column] for name, column in voltages.items()},
        currents={name: values[column] for name, column in currents.items()},
    )


def _transient(raw: Path) -> Transient:
    plot = read_raw(raw)[-1]
    times = [column for column, (_, kind) in enumerate(plot.variables) if kind == "time"]
    if len(times) != 1 or plot.values.shape[0] == 0:
        raise NgspiceError(f"ngspice wrote no transient (plot {plot.name!r})")
    series = plot.values.T.copy()  # one contiguous row per vector
    voltages, currents = _columns(plot)
    return Transient(
        time=series[times[0]],
        voltages={name: series[column] for name, column in voltages.items()},
        currents={name: series[column] for name, column in currents.items()},
    )


# --- shared library backend ------------------------------------------------------------


def _run_shared(
    ngspice: Any,
    netlist: str,
    runs: list[dict[str, float]],
    options: dict[str, float],
    analysis: str,
    read: Callable[[Path], T],
    progress: Callable[[], None],
) -> list[T]:
    keys = sorted({key for run in runs for key in run})
    with (
        _LOCK,
        _quiet_pyspice(),
        tempfile.TemporaryDirectory(prefix="neurosim-ngspice-") as tmp,
    ):
        circuit = _write_circuit(tmp, netlist)
        plots_before = set(ngspice.plot_names)
        circuits_before = _circuit_count(ngspice)
        _command(ngspice, "set filetype=binary")
        load_errors = _command(ngspice, f"source {circuit}")
        loaded = _circuit_count(ngspice) > circuits_before
        try:
            _check(load_errors, "ngspice rejected the netlist")
            for command in _prelude(options, keys):
                _check(_command(ngspice, command), "ngspice rejected the settings")
            results = []
            for j, alterations in enumerate(_alterations(keys, runs)):
                for command in alterations:
                    _check(_command(ngspice, command), f"ngspice rejected setting {j}")
                _check(_command(ngspice, analysis), _failure(analysis, j))
                raw = Path(tmp, f"run{j}.raw")
                for command in _write_results(raw):
                    _check(_command(ngspice, command), "ngspice could not write its results")
                results.append(read(raw))
                progress()
            return results
        finally:
            if keys:
                _command(ngspice, "setplot const")
            for i in range(len(keys)):  # one by one: PySpice caps a command at 1023 characters
                _command(ngspice, f"unlet {_saved(i)}")
            for plot in set(ngspice.plot_names) - plots_before:
                _command(ngspice, f"destroy {plot}")
            if loaded:
                _command(ngspice, "remcirc")


def _command(ngspice: Any, command: str) -> list[str]:
    """Run one ngspice command; return the lines ngspice wrote to stderr."""
    from PySpice.Spice.NgSpice.Shared import NgSpiceCommandError

    try:
        ngspice.exec_command(command)
    except NgSpiceCommandError:  # raised for any stderr output, warnings and notes included
        pass
    except NameError as exc:  # ngSpice_Command returned an error code
        return [*ngspice.stderr.splitlines(), f"Error: {exc}"]
    return ngspice.stderr.splitlines()


def _circuit_count(ngspice: Any) -> int:
    _command(ngspice, "setcirc")
    return sum(1 for line in ngspice.stdout.splitlines() if _CIRCUIT_LINE.match(line.strip()))


def _check(lines: Sequence[str], context: str) -> None:
    message = _error_message(lines)
    if message is not None:
        raise NgspiceError(f"{context}: {message}")


# --- batch backend -----------------------------------------------------------------------


def _run_batch(
    executable: str,
    netlist: str,
    runs: list[dict[str, float]],
    options: dict[str, float],
    analysis: str,
    read: Callable[[Path], T],
    timeout: float,
) -> list[T]:
    keys = sorted({key for run in runs for key in run})
    with tempfile.TemporaryDirectory(prefix="neurosim-ngspice-") as tmp:
        circuit = _write_circuit(tmp, netlist)
        raws = [Path(tmp, f"run{j}.raw") for j in range(len(runs))]
        script = ["* neurosim ngspice driver", ".control", "set filetype=binary"]
        script += [f"source {circuit}", *_prelude(options, keys)]
        for alterations, raw in zip(_alterations(keys, runs), raws, strict=True):
            script += [*alterations, analysis, *_write_results(raw)]
        script += ["quit", ".endc", ".end"]
        driver = Path(tmp, "driver.cir")
        driver.write_text("\n".join(script) + "\n", encoding="utf-8")
        try:
            done = subprocess.run(
                [executable, "-b", str(driver)],
                cwd=tmp,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise NgspiceError(f"ngspice did not finish within {timeout:g} s") from None
        missing = next((j for j, raw in enumerate(raws) if not raw.exists()), None)
        message = _error_message(done.stderr.splitlines())
        if message is not None:
            where = "" if missing is None else f" (no result for setting {missing})"
            raise NgspiceError(f"ngspice failed{where}: {message}")
        if missing is not None or done.returncode != 0:
            last = next((ln for ln in reversed(done.stdout.splitlines()) if ln.strip()), "")
            raise NgspiceError(
                f"ngspice exited with status {done.returncode} without results: {last.strip()}"
            )
        return [read(raw) for raw in raws]
