"""The ``kube-sim`` command: shared parser pieces in ``common``, one module per command."""
