"""The scenario, experiment and district files shipped with kube-sim.

In a source checkout the scenarios and experiments are the repository's top-level folders
``scenarios/`` and ``experiments/``; an installed wheel carries the same files in ``scenarios/`` and
``experiments/`` below this package. The district files (``districts/*.csv``, with their sources in
``districts/README.md``) live below this package in both. :mod:`kube_sim.experiments.files` finds
them either way.
"""
