"""Trained vectors: queries (keyed.py), file formats (vector_io.py), the approximate neighbour
index (ann.py), analogy and similarity evaluation (evaluate.py), and 2-D/3-D projections
(projection.py). Nothing here trains. This package re-exports nothing: import from its modules.
"""
