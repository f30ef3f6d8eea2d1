"""The station terminal's screens: the post's main screen, the report form, the instruction inbox."""
