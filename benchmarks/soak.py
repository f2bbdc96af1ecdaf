"""Soak run: many images through the emulator while it throttles and fails.

    python benchmarks/soak.py [--images 5000] [--concurrency 16] [--rate-503 0.2] [--rate-429 0.05]

Checks, and prints: every image ends deleted/already_absent or is reported retryable; none is
reported twice; what the server still holds is exactly what was reported not deleted; the
emulator never saw more deletes in flight than the concurrency. Backoff is shortened (base 10 ms,
cap 100 ms) so the run measures the function, not the sleeps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from image_cleanup import run
from image_cleanup.emulator import ImageApiEmulator
from image_cleanup.settings import load_settings

PROJECT = "9c53a566cb3443ab910cf0daebca90c4"


def image(n: int) -> str:
    return f"{n:08x}-5a5a-4000-8000-{n:012x}"


def soak(images: int = 5000, concurrency: int = 16, rate_503: float = 0.2, rate_429: float = 0.05,
         seed: int = 1, keep_result: bool = False) -> dict[str, Any]:
    ids = [image(n) for n in range(images)]
    with ImageApiEmulator(token="soak", rates={503: rate_503, 429: rate_429}, seed=seed) as server:
        server.seed(ids)
        settings = load_settings(
            endpoint=server.url, auth_token="soak", max_images=images, concurrency=concurrency,
            backoff_base_s=0.01, backoff_max_s=0.1, fail_on_retryable=False, log_level="ERROR",
        )
        started = time.perf_counter()
        result = run({"project_id": PROJECT, "image_ids": ids}, settings=settings).result
        wall = time.perf_counter() - started
        remaining = server.images
        requests = len(server.requests)
        max_in_flight = server.max_in_flight

    items = result["items"]
    reported = Counter(i["image_id"] for i in items)
    not_deleted = {i["image_id"] for i in items if i["outcome"] not in ("deleted", "already_absent")}
    problems = []
    if len(items) != images or set(reported) != set(ids) or max(reported.values()) != 1:
        problems.append("an image is missing or reported twice")
    if any(i["outcome"] not in ("deleted", "already_absent") and not i["retryable"] for i in items):
        problems.append("an image failed without being reported retryable")
    if remaining != not_deleted:
        problems.append("the server's images differ from what was reported not deleted")
    if max_in_flight > concurrency:
        problems.append(f"{max_in_flight} deletes in flight, over the concurrency of {concurrency}")
    attempts = [i["attempts"] for i in items]
    return ({"result": result} if keep_result else {}) | {
        "images": images, "concurrency": concurrency, "rate_503": rate_503, "rate_429": rate_429,
        "wall_s": round(wall, 2), "images_per_s": round(images / wall, 1), "requests": requests,
        "attempts_per_image_mean": round(statistics.fmean(attempts), 3), "attempts_max": max(attempts),
        "outcomes": dict(Counter(i["outcome"] for i in items)),
        "reasons": dict(Counter(i["reason"] for i in items if i["reason"])),
        "max_in_flight": max_in_flight, "status": result["status"], "problems": problems,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate-503", type=float, default=0.2)
    parser.add_argument("--rate-429", type=float, default=0.05)
    args = parser.parse_args()
    report = soak(args.images, args.concurrency, args.rate_503, args.rate_429)
    print(json.dumps(report, indent=2))
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
