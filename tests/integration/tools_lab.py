"""The lab-6 record rules (seed 003's KafkaLogProducer.generate_log_entry) as a checker, for the
loggen and logstat tests."""
import re
from datetime import datetime

SERVICES = ["web-server", "auth-service", "database", "api-gateway", "payment-service"]
LEVELS = {"INFO": 0.60, "WARNING": 0.20, "ERROR": 0.15, "DEBUG": 0.05}
MESSAGES = {
    "Database connection established", "User authentication successful", "Database connection failed",
    "API request processed", "Payment transaction completed", "Memory usage high", "Disk space running low",
    "Network latency detected", "Cache hit ratio optimal", "Failed to send email notification",
}
KEYS = ["timestamp", "timestamp_unix", "level", "message", "service", "ip", "user_id", "response_time_ms",
        "status_code"]
STATUS = {200, 201, 400, 401, 403, 404, 500}


def check_record(r, key=None):
    """Raise AssertionError naming the first rule record r breaks; return its log id."""
    lvl = r["level"]
    want_keys = KEYS + (["error_code", "stack_trace"] if lvl == "ERROR" else [])
    assert list(r.keys()) == want_keys, f"keys {list(r.keys())}"
    assert lvl in LEVELS, f"level {lvl}"
    m = re.fullmatch(r"(.+) - ID: (\d+)", r["message"])
    assert m and m.group(1) in MESSAGES, f"message {r['message']!r}"
    log_id = int(m.group(2))
    svc = r["service"]
    assert svc == SERVICES[log_id % 5], f"service {svc} for id {log_id}"
    if key is not None:
        assert key == svc.encode(), f"key {key!r} != service {svc}"
    ip = re.fullmatch(r"192\.168\.1\.(\d+)", r["ip"])
    assert ip and 1 <= int(ip.group(1)) <= 254, f"ip {r['ip']}"
    u = r["user_id"]
    assert u is None or (re.fullmatch(r"user_\d{4}", u) and 1000 <= int(u[5:]) <= 9999), f"user_id {u!r}"
    rt = r["response_time_ms"]
    if svc in ("web-server", "api-gateway"):
        assert isinstance(rt, int) and 10 <= rt <= 5000, f"response_time_ms {rt!r} for {svc}"
    else:
        assert rt is None, f"response_time_ms {rt!r} for {svc}"
    sc = r["status_code"]
    if "service" in svc:
        assert sc in STATUS, f"status_code {sc!r} for {svc}"
    else:
        assert sc is None, f"status_code {sc!r} for {svc}"
    if lvl == "ERROR":
        assert re.fullmatch(r"ERR\d{3}", r["error_code"]), f"error_code {r['error_code']!r}"
        assert r["stack_trace"] in (None, "... stack trace details ..."), f"stack_trace {r['stack_trace']!r}"
    datetime.fromisoformat(r["timestamp"])
    assert isinstance(r["timestamp_unix"], float), f"timestamp_unix {r['timestamp_unix']!r}"
    return log_id


def without_time(r):
    return {k: v for k, v in r.items() if k not in ("timestamp", "timestamp_unix")}
