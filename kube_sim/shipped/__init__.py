"""The scenario and experiment files shipped with kube-sim.

In a source checkout they are the repository's top-level folders ``scenarios/`` and
``experiments/``; an installed wheel carries the same files in ``scenarios/`` and ``experiments/``
below this package. :mod:`kube_sim.experiments.files` finds them either way.
"""
