"""The steps behind ``kampanj.definitions.loader``, one module per kind of document part."""
