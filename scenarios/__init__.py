"""Rehearsal scenarios (TOML data) and the runner that plays them through the real wire."""
