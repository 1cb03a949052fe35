//! Rule files: YAML in `models/`, validated with file, line, key and value in every message.
