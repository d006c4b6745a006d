"""The logic behind the app's pages (labeling, suggestions, map view, extraction, agreement,
exports, the sample paper): plain functions over the store, models and maps, no Streamlit."""
