"""Persistence: SQLAlchemy 2 Core tables, the queries of the hot path (`store`), Alembic
migrations and the schema check every role makes at start-up."""
