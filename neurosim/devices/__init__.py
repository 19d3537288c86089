"""Device models: what a conductance target becomes on real devices (DESIGN §6).

A model turns target conductances [S] into programmed ones (with the device's
programming noise, range, levels and faults) and says what they are a given time later
(drift, accumulated read noise). Each default is the named anchor's published value
(``../shared/DEVICE_ANCHORS.md``), cited in the model's docstring. Models are frozen,
validated settings objects (:mod:`neurosim.validation`); :mod:`neurosim.devices.presets`
names them for the CLI. The host writes the result into the circuit
(:mod:`neurosim.host.deploy`), so ngspice sees the same chip.
"""

NAMES = ("ideal", "pcm", "generic")  # the device models by name (presets.PRESETS' keys)
