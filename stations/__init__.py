"""The station side of eventdesk: the outbox, the client and the terminals; of ours it imports only protocols."""
