"""Tokens: syntax (TOK-1..3), My Token tree (TOK-11), step contexts and resolution (TOK-19..22),
per-run overrides (TOK-16..18), rendering with provenance (TOK-14, PROV-1).

Modules: `syntax` (scanner), `tree` (visibility), `overrides`, `context` (one step's
context), `render` (compile once, render persons in bulk), `formats` (TOK-5/7 text and the
MAIL-8 / HOOK-3 encoders), `provenance`, and `stored` (the store adapter).
"""
