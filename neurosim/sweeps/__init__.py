"""Device non-ideality sweeps: a grid of settings × repeats, each a fresh chip programmed
(or trained) and evaluated, on this process, a local process pool or a Dask cluster
(:func:`neurosim.sweeps.run.run_sweep`; the command ``neurosim sweep``)."""
