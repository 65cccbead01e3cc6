"""The domain: cases, stages, lifecycle, clocks, policies, the calendar, repeats and events.

Plain Python, no I/O: no database, broker, file or network, no loaders of YAML or JSON Schema,
no reading of the time of day (time is always an argument). May import only the standard
library and itself.
"""
