"""Statistics: what a view's sums mean (DESIGN §6) — reach with Wilson intervals, attention, click density,
depths and fold (`metrics`), the tests and corrections (`stats`), and two selections compared (`compare`)."""
