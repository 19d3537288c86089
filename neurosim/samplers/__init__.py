"""Sampling on the simulated hardware (DESIGN §5): a host loop around a settled circuit.

``readout``: the two velocity readouts of a flow-matching crossbar (spring current,
clamp current); ``flow``: Euler integration of the learned field from noise; ``grid``:
a PNG grid of generated 8×8 images.
"""
