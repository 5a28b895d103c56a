"""The checks behind ``kampanj.definitions.validate``, one module per concern."""
