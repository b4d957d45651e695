"""Podium store."""
