"""Frozen domain types: what kampanj knows about, with no I/O."""
