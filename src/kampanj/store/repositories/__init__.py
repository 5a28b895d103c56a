"""Repositories: reading and writing domain objects through SQLAlchemy Core."""
