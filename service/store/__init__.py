"""The database: ORM tables (models), engine and migrations (db), and keyword-only queries."""
