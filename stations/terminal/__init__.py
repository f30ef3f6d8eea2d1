"""The station terminal: the Textual app, its screens and widgets, and what each post reports."""
