"""The event folder on disk: event.toml, keys, guest lists, plan files and the hub's runtime file."""
