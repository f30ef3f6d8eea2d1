"""The command desk side of eventdesk: the event folder, the log, the hub, the state fold and the desk."""
