"""Traffic inputs, pure NumPy (no SimPy here).

Seeds (one stream per traffic stream), headway models, signal green windows, and the
arrival table of one replication.
"""
