"""Podium execute."""
