"""The station server for phones and tablets: every station's link always on in one process, paired browsers as its terminals."""
