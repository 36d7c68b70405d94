"""Page heatmaps from a company's own Google Analytics exports.

The package is the product's logic; the Streamlit pages and the CLI are thin shells over it.
"""

__version__ = "0.1.0"
