"""A moto S3 server process for the test suite (started by tests/s3.py, never imported there).

`python -m tests.s3_moto --host H --port P --directory D --access-key K --secret-key S
--bucket B` serves the S3 API on H:P with moto's own server (the same WSGI app as
`moto_server`), with three things `moto_server` alone does not do:

- It **enforces authentication**. moto accepts anything by default; here its IAM mode is on
  (INITIAL_NO_AUTH_ACTION_COUNT = 0 once set up), so an unsigned or wrongly signed request is
  refused with 403, as real S3 refuses it.
- Its **credentials are fixed** (the given key pair belongs to an IAM user allowed `s3:*`), so
  the web process, a worker and a restarted server all agree on them.
- Its **objects survive a restart**: on SIGTERM the buckets are written to D/state.pickle and
  read back on the next start, so a test can stop the server (a fault test) and later check
  what it holds.

It prints "ready" on stdout once it accepts requests.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import signal
import sys
import threading
from pathlib import Path

ACCOUNT_ID = "123456789012"  # moto's default account
STATE_FILE = "state.pickle"


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    for name in ("host", "port", "directory", "access-key", "secret-key", "bucket"):
        parser.add_argument(f"--{name}", required=True)
    return parser.parse_args()


def _create_user(access_key: str, secret_key: str) -> None:
    from moto.iam.models import iam_backends

    iam = iam_backends[ACCOUNT_ID]["aws"]
    iam.create_user("us-east-1", "coursebench")
    key = iam.create_access_key(user_name="coursebench")
    # moto draws a random key pair; the suite needs the one it was given.
    key.access_key_id = access_key
    key.secret_access_key = secret_key
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    iam.put_user_policy("coursebench", "s3-all", json.dumps(policy))


def _refuse_unsigned_requests() -> None:
    """moto's IAM mode expects every request to carry an Authorization header (one without
    gets a 500). Give unsigned requests S3's answer instead: an anonymous GET or HEAD of an
    object has already passed moto's ACL check (a private object was refused with 403 before
    this runs), so it is served; any other unsigned request is refused with AccessDenied.
    Presigned (query-string) URLs are not verified by this server and are refused the same way."""
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.s3.exceptions import S3AccessDeniedError

    original = ActionAuthenticatorMixin._authenticate_and_authorize_s3_action

    def checked(self, bucket_name=None, key_name=None):
        if "Authorization" not in self.headers:
            if self.method in {"GET", "HEAD"} and key_name and "Signature" not in self.uri:
                return None
            raise S3AccessDeniedError()
        return original(self, bucket_name=bucket_name, key_name=key_name)

    ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = checked


def _s3_backend():
    from moto.s3.models import s3_backends

    return s3_backends[ACCOUNT_ID]["aws"]


def _load(directory: Path, bucket: str) -> None:
    backend = _s3_backend()
    state = directory / STATE_FILE
    saved = pickle.loads(state.read_bytes()) if state.exists() else {}
    for name in {bucket, *saved}:
        backend.create_bucket(name, "us-east-1")  # registers the name with moto
        if name in saved:
            backend.buckets[name] = saved[name]


def _save(directory: Path) -> None:
    state = directory / STATE_FILE
    partial = state.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(dict(_s3_backend().buckets)))
    os.replace(partial, state)


def main() -> None:
    args = _parse()
    directory = Path(args.directory)
    directory.mkdir(parents=True, exist_ok=True)

    from moto import settings as moto_settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    _refuse_unsigned_requests()
    _create_user(args.access_key, args.secret_key)
    _load(directory, args.bucket)
    moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0

    server = ThreadedMotoServer(ip_address=args.host, port=int(args.port), verbose=False)
    server.start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    print("ready", flush=True)
    stopping.wait()
    server.stop()
    _save(directory)
    sys.exit(0)


if __name__ == "__main__":
    main()
