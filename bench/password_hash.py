"""CPU time of one password check, per hasher, on this machine.

    .venv/bin/python bench/password_hash.py [--repeat 10]

Each hasher hashes one password once (outside the clock), then verifies it `--repeat` times;
the figure is the median CPU time (process_time: all threads of this process) and wall time of
one `check_password`, which is what a login costs the web server. Figures and their reading are
in docs/benchmarks.md ("Password hashing").
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HASHERS = {
    "PBKDF2 (Django default, 1,000,000 iterations)": (
        "django.contrib.auth.hashers.PBKDF2PasswordHasher"
    ),
    "Argon2 (Django default, m=100 MiB t=2 p=8)": (
        "django.contrib.auth.hashers.Argon2PasswordHasher"
    ),
    "Argon2 (Coursebench, m=19 MiB t=2 p=1)": ("accounts.hashers.CoursebenchArgon2PasswordHasher"),
}


def measure(dotted: str, repeat: int) -> tuple[float, float]:
    from django.contrib.auth.hashers import check_password, make_password
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=[dotted]):
        encoded = make_password("correct horse battery staple")
        cpu, wall = [], []
        for _ in range(repeat):
            c0, w0 = time.process_time(), time.perf_counter()
            assert check_password("correct horse battery staple", encoded)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("COURSEBENCH_ENV_FILE", "")
    import django

    django.setup()
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f} repeat={args.repeat}")
    print(f"{'hasher':50} {'cpu ms':>8} {'wall ms':>8} {'checks/s/core':>14}")
    for label, dotted in HASHERS.items():
        cpu, wall = measure(dotted, args.repeat)
        print(f"{label:50} {cpu * 1000:8.1f} {wall * 1000:8.1f} {1 / cpu:14.1f}")


if __name__ == "__main__":
    main()
