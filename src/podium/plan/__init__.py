"""Podium plan."""
