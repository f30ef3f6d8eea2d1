"""The station's link to the hub: a client thread, its socket loop and what it does with replies; no screen."""
