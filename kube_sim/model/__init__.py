"""The model: parameters, district, agents and their rules, one run. Knows nothing of files, sweeps or plots."""
