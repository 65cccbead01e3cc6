"""A small New York City org directory for rule-tool tests: one city, two agencies."""

NYC_DIRECTORY = """\
version: nyc-t
regions: [{code: "360100", name: New York City, level: city}]
kinds: {city: {petition_bureau: "311 Triage"}}
units:
  - {id: "nyc:HPD", name: Housing Preservation and Development, kind: agency, region: "360100"}
  - {id: "nyc:NYPD", name: New York City Police Department, kind: agency, region: "360100"}
"""
