"""Project-wide exception types: every bad input raises one of these with a precise message."""


class MMStudyError(Exception):
    """Base class for errors caused by user input (files, configs, names)."""


class DataError(MMStudyError, ValueError):
    """Malformed or inconsistent data; the message names the file, row or key."""


class ConfigError(MMStudyError, ValueError):
    """An impossible or unknown configuration value; the message names the key."""
