"""JSON Schemas of request bodies and queries, one module per controller."""
