"""Nova's database: models, the data API and schema migrations."""
