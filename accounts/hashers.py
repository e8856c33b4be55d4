"""The password hasher: Argon2id with a cost measured on the deployment machine.

PBKDF2 at Django's default 1,000,000 iterations costs ~0.3 s of CPU per check on a 2-core VM,
so 300 students logging in within a minute saturate both cores for over a minute. Argon2id is
memory-hard: an attacker's cost per guess is bounded by memory bandwidth, not by how many SHA-256
cores they can buy, so a check that is far cheaper in our CPU time is not cheaper to crack on a
GPU. Figures and reasoning: docs/benchmarks.md ("Password hashing") and docs/operations.md.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher

#: OWASP Password Storage Cheat Sheet, Argon2id minimums (m in KiB).
OWASP_MIN_MEMORY_KIB = 19 * 1024
OWASP_MIN_TIME_COST = 2


class CoursebenchArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id, m = 19 MiB, t = 2, p = 1: OWASP's first recommended profile.

    Django's own Argon2 defaults (m = 100 MiB, t = 2, p = 8) cost several times more CPU per
    check here; p = 8 lanes buy no speed on two cores, and 100 MiB per concurrent login would
    make memory, not CPU, the login storm's limit. The algorithm name stays "argon2", so a
    hash made with other parameters still verifies, and Django re-hashes it with these at the
    next login (`must_update` compares the parameters).
    """

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
