"""Project-wide exception types: every bad input raises one of these with a precise message."""


class MMStudyError(Exception):
    """Base class for errors caused by user input (files, configs, names)."""


class DataError(MMStudyError, ValueError):
    """Malformed or inconsistent data; the message names the file, row or key."""


class ConfigError(MMStudyError, ValueError):
    """An impossible or unknown configuration value; the message names the key."""


def decode_utf8(data: bytes, where: object, error: type[MMStudyError] = DataError) -> str:
    """`data` as text; invalid UTF-8 raises `error` naming `where`, the byte offset and the line.

    A leading UTF-8 byte-order mark (as spreadsheet programs write it) is dropped.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start:exc.end]
        raise error(f"{where}: not valid UTF-8 at byte {exc.start} (line {line}): {bad!r} ({exc.reason}); "
                    "save the file as UTF-8") from None
    return text.removeprefix("\ufeff")
