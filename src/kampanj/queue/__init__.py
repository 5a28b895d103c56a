"""Work distribution for `kampanj worker`: Huey storages carrying ids, never state."""
