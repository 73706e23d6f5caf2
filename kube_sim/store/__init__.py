"""Results on disk: one reader and writer for single runs and sweeps (including unfinished sweeps). No model."""
