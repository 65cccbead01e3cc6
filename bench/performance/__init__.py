"""The performance suite: `python -m bench.performance [--quick] [--only NAME,...]`.

Every measurement runs xinfang and a bare baseline one after the other in the same run, each on
its own fresh vhost and database, and reports their ratio (see __main__ for what each runs).
"""
