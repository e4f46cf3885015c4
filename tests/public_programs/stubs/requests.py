"""requests stand-in: programs download only when their data file is missing, and the runner
writes it first; a download attempt is an error (no network)."""


def get(url, *args, **kwargs):
    raise ConnectionError(f"no network in tests/public_programs: {url}")
