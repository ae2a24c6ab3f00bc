"""The SLO spec: its validated model (``rulegen.spec.model``) and the strict
loader that builds it (``rulegen.spec.loader.load_spec``)."""
