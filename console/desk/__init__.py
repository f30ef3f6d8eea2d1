"""The command desk: the Textual app, its screens and widgets, and its link to the hub."""
