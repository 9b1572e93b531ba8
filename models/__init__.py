"""The data: settings, tables, input and output schemas, the engine and migrations."""
