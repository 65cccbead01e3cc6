"""The bundled demo: a deterministic sample of realistic contract-v1 cases, replayed through
the real pipeline on a simulated clock. May import the bootstrap and everything below it; only
the CLI imports it."""
