"""Statistics several analyses share: intervals, ratio tables, sparse-level plans and what they changed."""
