"""Experiments: the registered trained models (architecture spec, objective, data, training), the
benchmark and ``make reproduce``."""
