"""The SimPy model: lane state, gap acceptance, the schemes and the run of one replication.

Room for: changing a scheme's rule (schemes/), adding a scheme (one module + a registry entry).
"""
