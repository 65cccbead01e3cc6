"""Alembic environment: the connection comes from dispatcher.adapters.db.schema, never from a
.ini file."""

from alembic import context

from dispatcher.adapters.db.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
