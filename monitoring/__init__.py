"""Metric definitions (one place), the KPIs computed from the database, their Prometheus
collector and the Grafana dashboard. May import dispatcher's read side (tables, domain)."""
