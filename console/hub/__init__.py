"""The hub: the headless process that owns the log (ZeroMQ edge, ingest, the SQLite store); knows no screen."""
