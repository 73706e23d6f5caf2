"""Running the model many times: scenario and experiment files, designs, sweeps, executors (local, Dask)."""
