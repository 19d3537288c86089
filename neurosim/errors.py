"""Error types a user can cause. The CLI turns each into one line and a non-zero exit."""

from __future__ import annotations


class NeurosimError(Exception):
    """Base class for errors caused by input (files, options, data), not by bugs."""


class NetlistError(NeurosimError):
    """A netlist that cannot be read: reported as ``FILE:LINE: message``."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        self.message = message
        self.file = file
        self.line = line
        where = file or "<netlist>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")


class CircuitError(NeurosimError):
    """A circuit whose structure or values are invalid (dangling node, R <= 0, ...)."""


class SpecError(NeurosimError):
    """A network spec (circuits/*.toml) that is malformed or out of range."""


class SimulatorMissingError(NeurosimError):
    """ngspice (or its shared library) is not installed."""


class ConvergenceError(NeurosimError):
    """A solver did not reach its tolerance."""
