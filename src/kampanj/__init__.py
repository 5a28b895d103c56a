"""kampanj: Marketo-style smart campaigns as code, run by a set-based engine."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
