"""Database access: SQL, row types, DataLoaders and query functions. Knows no GraphQL."""
