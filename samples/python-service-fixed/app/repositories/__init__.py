"""Data access. Repository functions run on the caller's connection, inside its transaction."""
