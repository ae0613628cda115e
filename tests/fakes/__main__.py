"""Run the fake providers for a manual walkthrough: ``python -m tests.fakes``.

Prints the settings that point byok at them, and accepts the keys given with ``--accept``
(every key starting with ``sk-demo`` by default, as a convenience for the README's curl tour).
"""

from __future__ import annotations

import argparse
import signal
import threading

from .server import FakeProviders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accept", action="append", default=[], help="an API key every fake accepts")
    args = parser.parse_args()
    fakes = FakeProviders().start()
    keys = args.accept or ["sk-demo-key"]
    for fake in fakes.all.values():
        for key in keys:
            fake.script(key, "accept")
    print("# the fakes are up; start byok with:")
    for name, value in {**fakes.env(), "BYOK_ALLOW_PRIVATE_NETWORKS": "true"}.items():
        print(f"export {name}={value}")
    print(
        f"# accepted keys: {', '.join(keys)}; azure base_url {fakes.azure_base_url}, custom {fakes.custom_base_url}"
    )
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    fakes.stop()


if __name__ == "__main__":
    main()
