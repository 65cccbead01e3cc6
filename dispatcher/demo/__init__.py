"""The bundled demo: a deterministic sample of realistic contract-v1 cases."""
