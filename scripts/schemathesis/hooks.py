"""Rules the OpenAPI document states in words because OpenAPI cannot say them.

Schemathesis generates every parameter and field on its own; these hooks make generated
*valid* requests obey the rules between fields (period vs. from/to, date with custom,
page_prefix with metrics/interval/property, replay day ranges) and the rules relative to
the current time (event ts within the accepted age, embed-token expiry). They only touch
what the descriptions in appliance/http/openapi.ts name; everything else is as generated.
"""
import time
from datetime import datetime, timedelta, timezone

import schemathesis

NOW_MS = lambda: int(time.time() * 1000)


def _event(e):
    if isinstance(e, dict) and isinstance(e.get("ts"), int) and not isinstance(e.get("ts"), bool):
        # Documented: at most maxEventAgeHours old, not ahead of the collector clock.
        if not (NOW_MS() - 3_600_000 <= e["ts"] <= NOW_MS()):
            e["ts"] = NOW_MS() - 1_000
    return e


def _path(ctx):
    return ctx.operation.path


@schemathesis.hook
def map_body(ctx, body):
    path = _path(ctx)
    if path == "/api/event":
        return _event(body)
    if path == "/api/batch":
        events = body if isinstance(body, list) else body.get("events") if isinstance(body, dict) else None
        if isinstance(events, list):
            for e in events:
                _event(e)
        return body
    if path == "/api/admin/replays" and isinstance(body, dict):
        today = datetime.now(timezone.utc).date()
        body["from"] = str(today - timedelta(days=1))
        body["to"] = str(today)
        return body
    if path == "/api/admin/embed-tokens" and isinstance(body, dict):
        body.pop("expiresAt", None)  # documented: in the future, at most 400 days ahead
        return body
    return body


@schemathesis.hook
def map_query(ctx, query):
    if not isinstance(query, dict) or not _path(ctx).startswith("/api/v1/stats/") or _path(ctx).endswith("/realtime/visitors"):
        return query
    q = query
    if "from" in q or "to" in q:
        # Documented: from and to together, to after from, within maxRangeDays; not with date or another period.
        q["from"], q["to"] = "2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z"
        q.pop("date", None)
        if q.get("period") not in (None, "custom"):
            q.pop("period")
    elif q.get("period") == "custom":
        q["date"] = "2025-01-01,2025-01-31"
    elif "date" in q:
        if q.get("period") == "realtime":
            q.pop("date")
        else:
            q["date"] = "2025-01-15"
    if "page_prefix" in q:
        path = _path(ctx)
        if path.endswith("/breakdown"):
            q["property"] = "page"
        else:
            q["metrics"] = "visitors,pageviews"
        if path.endswith("/timeseries"):
            if q.get("interval") == "minute":
                q["interval"] = "hour"
            if q.get("period") == "realtime":
                q["period"] = "day"
    if _path(ctx).endswith("/timeseries") and q.get("interval") == "minute" and q.get("period") not in ("realtime", "day"):
        q["interval"] = "hour"  # documented: at most 5000 buckets
    return q
