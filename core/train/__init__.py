"""Training: the trainer (Python owns time: epochs, chunks, learning rate, threads, events), the
compiled kernels (one loop per architecture), the loss steps they call, the buffered hot output
rows, one-example steps for teaching, and the low-level pointer/borrow/prefetch code.

Data flows: corpus + tables (core/tables.py's build_tables, over core/huffman.py and core/sampling.py)
-> trainer -> kernels -> losses; step.py's apply_step is the one door to the compiled step from Python;
the trainer reports through core/events.py. Nothing here reads files or draws.
This package re-exports nothing: import from its modules.
"""
