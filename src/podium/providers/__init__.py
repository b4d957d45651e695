"""Providers: the provider protocol (``base``) and one module per provider."""
