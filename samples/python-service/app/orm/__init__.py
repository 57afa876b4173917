"""Warehouse stock, mapped with the SQLAlchemy ORM."""
