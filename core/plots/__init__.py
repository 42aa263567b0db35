"""Pure plotly figure builders (no streamlit): data in, ``go.Figure`` out."""
