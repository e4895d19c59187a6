"""Studies over replications: paired comparison of schemes on common random numbers."""
