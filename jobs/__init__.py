"""Top floor: one Spark job per stage, the nightly driver and the command line."""
