"""Loaders of files: clock policies and the working-day calendar (YAML and the
`chinese_calendar` package), rule sets with their org directory, hot reload of rule sets, and
the CSV importer. Each validates what it reads, and its errors name the file and the field."""
