"""figures: pure functions from arrays to plotly Figures. No streamlit here."""
