"""neurosim: neuromorphic analog-circuit simulator with a learning-rule backend."""

__version__ = "0.1.0"
