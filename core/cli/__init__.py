"""The command line (`python -m core ...`): main.py parses and dispatches (train, similar, analogy),
evaluate.py (eval, phrases), download.py and prepare.py register their own commands; common.py
holds what they share. Each command turns known errors into one line and exit code 2.
"""
