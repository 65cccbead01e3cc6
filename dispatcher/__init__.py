"""xinfang: dispatch citizen petitions (信访) and escalate the overdue ones.

The layers, each importing only those below it (enforced by the import-linter contracts in
pyproject.toml; docs/architecture.md shows the path of one case through them):

- `cli`, `demo`: the command line and the bundled demo — the program's edges;
- `bootstrap`: settings, the system clock, the composition root (`app.build`), running and
  supervising roles, health probes — the only code that imports `workers`;
- `adapters`: the outside world — `db` (SQLAlchemy, Alembic), `messaging` (kombu, RabbitMQ),
  `files` (YAML policies, calendar, rule sets, CSV import), `outage` (waiting out services);
- `services`: one use case each, in one transaction, against the ports they are given;
- `contract`: the wire contracts (JSON Schema) and their validators;
- `domain`: cases, stages, clocks, events, repeats — plain Python, no I/O, time as an argument.
"""

__version__ = "0.1.0"
