"""Drawing (docs/rendering.md): colour ramps, the overlay on a screenshot of any height, the legend burned into the
exported PNG (in the page's language), and encoding that never needs the whole picture twice in memory."""
