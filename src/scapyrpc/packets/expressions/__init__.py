"""EXPRESSION texts: one bounded front end (`frontend`) and the Scapy-classes dialect
(`scapy_dialect`); the field engine's arithmetic dialect lives with the field engine."""
