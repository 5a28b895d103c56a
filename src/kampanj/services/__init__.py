"""Use cases shared by the CLI and the API: each opens its own transaction."""
