"""`.env.example` documents every variable the settings and gunicorn.conf.py read."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_read_from_the_environment_is_in_env_example():
    settings_source = (ROOT / "config" / "settings.py").read_text()
    settings_source += (ROOT / "gunicorn.conf.py").read_text()
    read = set(re.findall(r'env_[a-z]+\(\s*"([A-Z][A-Z0-9_]*)"', settings_source))
    documented = set(
        re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
    )

    assert "GRADING_THREADS" in read and "DATABASE_URL" in read  # the pattern still matches
    assert "WEB_CONCURRENCY" in read  # gunicorn.conf.py is read too
    assert sorted(read - documented) == []
