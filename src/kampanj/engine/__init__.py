"""The set-based cohort engine (DESIGN.md §2): runs, qualification, steps, progress."""
