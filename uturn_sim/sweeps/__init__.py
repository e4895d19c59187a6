"""Parameter sweeps: the sweep file (spec) and its run on processes or Dask (run)."""
