"""The eventdesk wire contract: messages, codec, keys and the text catalogue; imports nothing of ours."""
