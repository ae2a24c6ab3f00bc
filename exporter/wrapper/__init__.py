"""The ``run`` wrapper: policy check, watched execution, evidence, metrics."""
