"""Figures written by the CLI (matplotlib, Agg backend, atomic PNG writes)."""
