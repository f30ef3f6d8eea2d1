"""The station terminal's widgets: they render what their screen hands them and post intent; no sockets, no files."""
