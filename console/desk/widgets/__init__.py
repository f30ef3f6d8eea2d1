"""The desk's widgets: each renders a View set by its parent and posts past-tense messages."""
