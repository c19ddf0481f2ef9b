"""Reference data shipped with the service (read-only files and their readers)."""
