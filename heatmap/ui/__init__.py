"""The Streamlit side of the package: the only part of `heatmap` that imports streamlit.

- `page.setup(title)`: what every page file runs first (page config, settings, login gate, language, data);
- `view` and `i18n`: pure helpers (no streamlit) for links and UI text, unit-tested on their own;
- the rest is glue that pages call: data caching, screenshots, maps, saved runs.
"""
