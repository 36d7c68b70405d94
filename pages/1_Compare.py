"""Compare: two segments or two periods side by side on one colour scale, the difference map, the table."""

from heatmap.ui import page

ctx = page.setup("compare.title")

with page.guard(ctx):
    from heatmap.ui import compare_page

    compare_page.main(ctx)
