"""Ground floor: Arrow/Parquet schemas of each stage's output and the manifest schema, versioned."""
