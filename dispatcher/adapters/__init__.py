"""Adapters to the outside world: the database (`db`), the broker (`messaging`), files
(`files`: policies, calendar, rule sets, CSV), and how roles wait out an unavailable service
(`outage`). May import services, contract and domain; never the bootstrap, workers or CLI."""
