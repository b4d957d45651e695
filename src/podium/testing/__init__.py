"""Podium testing."""
