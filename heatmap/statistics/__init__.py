"""Statistics: what a view's sums mean (docs/statistics.md) — reach with Wilson intervals, attention, click density,
depths and fold (`metrics`), the tests and corrections (`stats`), and two selections compared (`compare`)."""
