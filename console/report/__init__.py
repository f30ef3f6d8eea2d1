"""The post-event summary and drill scorecards as documents, and the archive; the edges read the log and write files."""
