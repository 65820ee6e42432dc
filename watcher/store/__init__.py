"""Persistence: the only package that imports SQLAlchemy (Core; SQLModel only in old migrations)."""
