"""The station's outbox: reports saved in local SQLite before they are sent; no sockets, no screen."""
