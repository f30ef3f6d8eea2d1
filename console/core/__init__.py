"""The pure core: the event model, the state fold, plans, readiness and guest rules; no sockets, no database, no screen, no files, no process time zone."""
