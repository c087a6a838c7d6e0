"""Stats tables, drift and the HTML report of a version."""
