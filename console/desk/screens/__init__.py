"""The desk's screens: the main board, detail screens, modals for actions, help and the command palette."""
