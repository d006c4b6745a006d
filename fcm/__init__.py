"""Fuzzy cognitive maps: building from relations, metrics, simulation, exports."""
