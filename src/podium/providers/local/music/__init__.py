"""Shared code of the offline music engines: composition, arrangement, MIDI, finishing."""
