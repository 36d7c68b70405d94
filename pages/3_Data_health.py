"""Data health: days present, missing or re-exported, files with errors, rows excluded, what to do."""

from heatmap.ui import page

ctx = page.setup("health.title")

with page.guard(ctx):
    from heatmap.ui import health_page

    health_page.main(ctx)
