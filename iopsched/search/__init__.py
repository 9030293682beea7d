"""The steps of a solve (:func:`iopsched.solver.solve`), each on the CP-SAT model of
:mod:`iopsched.model`."""
