"""Endpoints, one module per resource family."""
