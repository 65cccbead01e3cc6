"""Bootstrap: settings read once from the environment, the system clock, the composition root
(`app.build`, the one place that wires engine, broker, rules, clock and metrics), the roles and
their supervision, and the health probes. The only code that imports `workers`."""
