"""Application services: each runs one use case in one transaction."""
