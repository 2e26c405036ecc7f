"""Streamlit-side helpers shared by app.py and pages/: session state, background runs.

core/ never imports Streamlit; ui/ is where Streamlit meets core.
"""
