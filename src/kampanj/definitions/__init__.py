"""Definitions as code: YAML loading, validation (lint) and the call-graph checks."""
