"""Storefront (Django app)."""
