"""xinfang: dispatch citizen petitions (信访) and escalate the overdue ones."""

__version__ = "0.1.0"
