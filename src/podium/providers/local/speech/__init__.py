"""Shared code of the offline speech engines: text splitting and the streaming speech loop."""
