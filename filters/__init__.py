"""Document filters and text cleaners: pure Python, no Spark.

A filter computes named signals (numbers) from a document and declares rules over them; a rule turns one signal
and one configurable threshold into keep/drop. Because rules are declarative, a stored signal table can be
re-decided with new thresholds without recomputing anything.
"""
