"""Running it: logs, Prometheus metrics, systemd notifications and status."""
