"""Register the heatmap's GA4 custom definitions with the Google Analytics Admin API (REST v1beta).

    export GA_ACCESS_TOKEN="$(gcloud auth print-access-token \\
        --scopes=https://www.googleapis.com/auth/analytics.edit)"   # any OAuth token with analytics.edit
    python -m tracking.ga4_definitions --property 123456789 --dry-run   # print the requests
    python -m tracking.ga4_definitions --property 123456789             # create what is missing

Existing definitions (same parameterName) are left alone, so running it twice is harmless.
Standard library only. Optional: GA_QUOTA_PROJECT sets the x-goog-user-project header (needed with user
credentials from gcloud).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

from heatmap import contract

API = "https://analyticsadmin.googleapis.com/v1beta"

#: Display names and descriptions shown in GA4 (Admin > Custom definitions).
DIMENSION_TEXT: dict[str, tuple[str, str]] = {
    contract.BAND_PARAM: (
        "Heatmap band",
        f"Page band index = floor(page y / {contract.BAND_HEIGHT_PX} px), zero-padded "
        f"({contract.DWELL_EVENT}, {contract.DWELL_MORE_EVENT}).",
    ),
    contract.X_PARAM: ("Heatmap click x", "Click x as whole percent of document width, 0-99 (hm_click)."),
    contract.Y_PARAM: (
        "Heatmap click y",
        f"Click page y in CSS px / {contract.CLICK_Y_STEP_PX}, integer (hm_click).",
    ),
}
METRIC_TEXT: dict[str, tuple[str, str]] = {
    contract.SECONDS_PARAM: (
        "Heatmap seconds",
        "Seconds a band was in view on a visible page with an active visitor "
        f"({contract.DWELL_EVENT}, {contract.DWELL_MORE_EVENT}).",
    ),
    contract.SECONDS_SQ_PARAM: (
        "Heatmap seconds squared",
        "Per page view, the square of a band's seconds (summed over its events), for the spread of attention "
        f"({contract.DWELL_EVENT}, {contract.DWELL_MORE_EVENT}).",
    ),
}
#: GA4 measurement units: seconds are a time; seconds² has no unit of its own, so it is a standard number.
METRIC_UNITS: dict[str, str] = {contract.SECONDS_PARAM: "SECONDS", contract.SECONDS_SQ_PARAM: "STANDARD"}


def definition_requests(property_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(URL, JSON body) of every custom definition to create; pure, no network."""
    pid = str(property_id).removeprefix("properties/")
    if not pid.isdigit():
        raise ValueError(f"GA4 property id must be digits, got {property_id!r}")
    base = f"{API}/properties/{pid}"
    requests: list[tuple[str, dict[str, Any]]] = []
    for param in contract.CUSTOM_DIMENSIONS:
        name, description = DIMENSION_TEXT[param]
        body = {"parameterName": param, "displayName": name, "description": description, "scope": "EVENT"}
        requests.append((f"{base}/customDimensions", body))
    for param in contract.CUSTOM_METRICS:
        name, description = METRIC_TEXT[param]
        body = {
            "parameterName": param,
            "displayName": name,
            "description": description,
            "scope": "EVENT",
            "measurementUnit": METRIC_UNITS[param],
        }
        requests.append((f"{base}/customMetrics", body))
    return requests


def _call(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if os.environ.get("GA_QUOTA_PROJECT"):
        headers["x-goog-user-project"] = os.environ["GA_QUOTA_PROJECT"]
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def _existing(url: str, token: str) -> set[str]:
    """parameterNames already registered at a customDimensions/customMetrics collection URL."""
    key = url.rsplit("/", 1)[1]
    names: set[str] = set()
    page = ""
    while True:
        reply = _call("GET", f"{url}?pageSize=200" + (f"&pageToken={page}" if page else ""), token)
        names.update(item.get("parameterName", "") for item in reply.get(key, []))
        page = reply.get("nextPageToken", "")
        if not page:
            return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tracking.ga4_definitions", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--property", required=True, help="GA4 property id (digits), e.g. 123456789")
    parser.add_argument("--dry-run", action="store_true", help="print the requests, send nothing")
    args = parser.parse_args(argv)
    try:
        requests = definition_requests(args.property)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        for url, body in requests:
            print(f"POST {url}\n{json.dumps(body, indent=2)}")
        return 0
    token = os.environ.get("GA_ACCESS_TOKEN", "")
    if not token:
        print(
            "error: set GA_ACCESS_TOKEN (an OAuth access token with the analytics.edit scope)",
            file=sys.stderr,
        )
        return 2
    try:
        existing = {url: _existing(url, token) for url in {u for u, _ in requests}}
        for url, body in requests:
            if body["parameterName"] in existing[url]:
                print(f"exists:  {body['parameterName']}")
                continue
            _call("POST", url, token, body)
            print(f"created: {body['parameterName']} ({url.rsplit('/', 1)[1]})")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:500]
        print(f"error: HTTP {exc.code} from {exc.url}: {detail}", file=sys.stderr)
        return 1
    except urllib.error.URLError as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
