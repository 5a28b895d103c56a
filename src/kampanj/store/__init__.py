"""Storage: schema, migrations, database access and repositories."""
