"""Podium report."""
