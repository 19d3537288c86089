"""Sizes checked against the memory the machine has before anything is allocated."""

from __future__ import annotations

import os

from neurosim.errors import NeurosimError


def available_bytes() -> int:
    """Memory available for new allocations [bytes] (Linux ``MemAvailable``; elsewhere
    the physical memory)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def require(nbytes: float, what: str) -> None:
    """One-line :class:`NeurosimError` if ``what`` needs more than the available memory."""
    free = available_bytes()
    if nbytes > free:
        raise NeurosimError(
            f"{what} needs about {nbytes / 2**30:,.1f} GiB; {free / 2**30:,.1f} GiB are available"
        )
