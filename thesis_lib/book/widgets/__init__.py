"""Interactive explorers (ipywidgets), one module per explorer; each has a static twin in its chapter."""
