"""Device models: what a conductance target becomes on real devices (DESIGN §6).

A model turns target conductances [S] into programmed ones (with the device's
programming noise, range, levels and faults) and says what they are a given time later
(drift, accumulated read noise); a pulsed-update device (:mod:`neurosim.devices.pulsed`)
instead moves by pulses of a small noisy step, as in-situ training writes it. Each
default is the named anchor's published value (``../shared/DEVICE_ANCHORS.md``),
cited in the model's docstring. Models are frozen, validated settings objects
(:mod:`neurosim.validation`); :mod:`neurosim.devices.presets` names them for the CLI.
The host writes the result into the circuit (:mod:`neurosim.host.deploy`), so ngspice
sees the same chip.
"""

PULSED = ("constant_step", "soft_bounds", "reram_sb", "reram_es")
"""The pulsed-update devices (:mod:`neurosim.devices.pulsed`), for training."""
NAMES = ("ideal", "pcm", "generic", *PULSED)
"""The device models by name (presets.PRESETS' keys)."""
