"""The rule language and engine of xinfang: org directory, rule files, decisions and traces.

Imports nothing from the rest of the project and does no I/O at import: files are read only by
load_directory() and load_rules().
"""

from rules.directory import (
    Leader,
    OrgDirectory,
    OrgUnit,
    default_directory_path,
    load_directory,
)
from rules.engine import Decision, Diversion, RuleSet, RuleTrace
from rules.errors import RuleFileError, RulesError
from rules.loader import (
    default_rules_path,
    directory_path_for,
    folder_directory,
    load_rules,
    rule_files,
)

__all__ = [
    "Decision",
    "Diversion",
    "Leader",
    "OrgDirectory",
    "OrgUnit",
    "RuleFileError",
    "RuleSet",
    "RuleTrace",
    "RulesError",
    "default_directory_path",
    "default_rules_path",
    "directory_path_for",
    "folder_directory",
    "load_directory",
    "load_rules",
    "rule_files",
]
