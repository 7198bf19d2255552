"""`samsa console` over plain HTTP, against a real cluster (a fresh `samsa broker`, or Apache Kafka
with SAMSA_TEST_BOOTSTRAP): every page answers with the data the tools made (topics and their
offsets, a group's lag per partition and in total, time lag, the lag history); the changes work
through their forms (create, configs, produce, reset with a dry run first, delete) and only with
the CSRF value; the hostile-input rules hold (origin, Content-Type, Host, body size, bad numbers,
escaping); --read-only refuses every change and shows no form; SIGTERM stops it promptly with its
Kafka clients closed (librdkafka 2.0.2's DescribeConsumerGroups hung rd_kafka_destroy; the console
does not use it)."""
import re
import signal
import socket
import time

from console_env import EXTERNAL, Broker, Console, check, finish, make_data, run, scaled, tag, wait_until


def main():
    broker = None if EXTERNAL else Broker().start()
    bootstrap = EXTERNAL or broker.addr
    sfx = tag()
    topic, group = f"console-logs-{sfx}", f"console-lab-{sfx}"
    want = make_data(bootstrap, topic, group, records=300, offset=40)
    check(want > 0, f"the tools made a group with lag {want}")
    con = Console(bootstrap).start()
    try:
        pages(con, topic, group, want)
        changes(con, topic, group, sfx, want)
        hostile(con, topic)
    finally:
        t0 = time.monotonic()
        rc = con.stop(signal.SIGTERM, timeout=30)
        check(rc == 0 and time.monotonic() - t0 < scaled(15),
              f"SIGTERM: the console exits 0 promptly ({rc}, {time.monotonic() - t0:.1f} s)")
    ro = Console(bootstrap, extra=["--read-only", "--history", "none"]).start()
    try:
        read_only(ro, topic, group)
    finally:
        ro.stop()
    if broker:
        broker.stop()
    finish()


def pages(con, topic, group, want):
    st, h, html = con.get("/")
    check(st == 200 and "default-src 'self'" in h.get("content-security-policy", ""), "overview: 200 with the CSP")
    check(h.get("x-frame-options") == "DENY" and h.get("x-content-type-options") == "nosniff", "overview: frame/sniff headers")
    check(re.search(r'id="brokers-count">\d', html) is not None, "overview: the brokers count")
    check("DescribeLogDirs" in html, "overview: bytes on disk are said to be unknown, and why")
    html = con.wait_for(f"/topics?q={topic}", re.escape(topic), what="the topic is listed")
    row = re.search(r'name=' + re.escape(topic) + r'">[^<]+</a></td><td class="num">(\d+)</td><td class="num">([\d\u202f]+)</td>', html)
    check(row is not None and row.group(1) == "3" and row.group(2).replace("\u202f", "") == "300",
          f"topics: 3 partitions and 300 messages ({row.groups() if row else None})")
    st, _, html = con.get("/topics?q=no-such-topic-anywhere")
    check(st == 200 and 'id="no-topics"' in html, "topics: a search with no match says so")
    st, _, html = con.get(f"/topic?name={topic}")
    parts = re.findall(r'<tr><td><a href="/messages\?topic=[^"]+&amp;partition=(\d+)">', html)
    check(st == 200 and sorted(parts) == ["0", "1", "2"], f"topic: its partitions with offsets ({parts})")
    check('id="configs"' in html and "retention.ms" in html, "topic: its configs (DescribeConfigs)")
    st, _, _ = con.get("/topic?name=no-such-topic")
    check(st == 404, "topic: an unknown topic is 404")
    # the group: lag per partition and in total, time lag, members (none: logstat has left)
    html = con.wait_for(f"/group?name={group}", r'id="group-lag">[\d\u202f]+<', what="the group's lag")
    lag = int(re.search(r'id="group-lag">([\d\u202f]+)<', html).group(1).replace("\u202f", ""))
    check(lag == want, f"group: the total lag `samsa groups` says ({lag}, {want})")
    lags = [int(x.replace("\u202f", "")) for x in re.findall(r'<td class="num lag">([\d\u202f]+)</td>', html)]
    check(len(lags) == 3 and sum(lags) == want, f"group: lag per partition adds up ({lags})")
    check(re.search(r'id="group-time-lag">\d', html) is not None, "group: the time lag (age of the oldest unconsumed)")
    html = con.wait_for(f"/group?name={group}", r'<polyline class="series s1"', what="the lag history chart")
    check("<svg" in html and 'class="series s2"' in html, "group: the lag history chart with time lag")
    st, _, html = con.get("/groups")
    check(st == 200 and group in html, "groups: the group is listed")
    st, _, html = con.get(f"/messages?topic={topic}&partition=1&limit=5")
    rows = re.findall(r'<tr class="record" data-partition="(\d+)" data-offset="(\d+)">', html)
    offs = [int(o) for _, o in rows]
    check(st == 200 and len(rows) == 5 and all(p == "1" for p, _ in rows) and offs == sorted(offs, reverse=True),
          f"messages: 5 of partition 1, newest first ({rows})")
    check('<pre class="json">' in html and '\n  &quot;level&quot;' in html, "messages: JSON values are indented")
    st, _, html = con.get(f"/messages?topic={topic}&seek=offset&partition=0&offset=3&limit=4")
    offs = [int(o) for o in re.findall(r'data-offset="(\d+)"', html)]
    check(offs == [6, 5, 4, 3], f"messages: from offset 3, newest first ({offs})")
    st, _, html = con.get(f"/messages?topic={topic}&value=%22ERROR%22&limit=500")
    vals = re.findall(r'<td class="value"><pre class="json">(.*?)</pre>', html, re.S)
    check(st == 200 and vals and all("&quot;ERROR&quot;" in v for v in vals),
          f"messages: the value filter keeps only matches ({len(vals)})")
    st, _, html = con.get(f"/messages?topic={topic}&seek=time&time=2000-01-01T00:00&partition=2&limit=3")
    check(st == 200 and re.findall(r'data-offset="(\d+)"', html) == ["2", "1", "0"], "messages: from a time")
    st, _, _ = con.get(f"/messages?topic={topic}&seek=time&time=yesterday")
    check(st == 400, "messages: a bad time is 400")
    st, h, body = con.get("/metrics")
    check(st == 200 and f'samsa_console_group_lag{{group="{group}"}} {want}' in body, "metrics: the group's lag")


def changes(con, topic, group, sfx, want):
    cookie, csrf = con.session()
    check(bool(cookie) and bool(csrf), "a page gives a CSRF cookie and field")
    new = f"console-made-{sfx}"
    st, h, _ = con.post_form("/topics/create", {"csrf": csrf, "name": new, "partitions": "2", "replication": "1",
                                                 "configs": "retention.ms=3600000\r\n"}, cookie)
    check(st == 303 and h.get("location", "").startswith(f"/topic?name={new}"), f"create: 303 to the topic ({st})")
    html = con.wait_for(f"/topic?name={new}", r'retention\.ms</td><td>3600000<', what="the new topic with its config")
    check(html.count('<tr><td><a href="/messages') == 2, "create: 2 partitions")
    st, h, _ = con.post_form("/topic/configs", {"csrf": csrf, "name": new, "configs": "retention.ms=7200000"}, cookie)
    check(st == 303, f"configs: saved ({st})")
    st, _, html = con.get(f"/topic?name={new}")
    check("retention.ms</td><td>7200000<" in html, "configs: the new value is shown")
    st, h, _ = con.post_form("/messages/produce", {"csrf": csrf, "topic": new, "key": "k1", "value": '{"a":[1,2]}',
                                                    "headers": "trace: abc\r\nsource: console", "partition": "1"}, cookie)
    check(st == 303 and "produced=1:0" in h.get("location", ""), f"produce: 303 with partition and offset ({h.get('location')})")
    st, _, html = con.get(f"/messages?topic={new}&partition=1")
    check("<dt>trace</dt><dd><pre>abc</pre>" in html and "<pre>k1</pre>" in html and '&quot;a&quot;: [' in html,
          "produce: the record with its key, headers and JSON value")
    st, _, _ = con.post_form("/messages/produce", {"csrf": csrf, "topic": new, "value": "x", "headers": "no colon"},
                             cookie)
    check(st == 422, "produce: a header without a colon is 422")
    # reset: the dry run changes nothing, applying it does
    st, _, html = con.post_form("/group/reset", {"csrf": csrf, "group": group, "topic": topic, "to": "latest",
                                                 "dry_run": "1"}, cookie)
    check(st == 200 and 'id="plan"' in html and 'id="apply-form"' in html, "reset: the dry run shows the plan")
    st, _, html = con.get(f"/group?name={group}")
    m = re.search(r'id="group-lag">([\d\u202f]+)<', html)
    check(m and m.group(1).replace("\u202f", "") == str(want), f"reset: the dry run changed nothing ({m and m.group(1)})")
    st, h, _ = con.post_form("/group/reset", {"csrf": csrf, "group": group, "topic": topic, "to": "latest"}, cookie)
    check(st == 303 and "done=reset" in h.get("location", ""), f"reset: applied ({st})")
    con.wait_for(f"/group?name={group}", r'id="group-lag">0<', what="lag 0 after a reset to latest")
    st, _, _ = con.post_form("/group/reset", {"csrf": csrf, "group": group, "to": "time", "value": "soon"}, cookie)
    check(st == 422, "reset: a bad time is 422")
    st, _, _ = con.post_form("/topic/delete", {"csrf": csrf, "name": new, "confirm": "wrong"}, cookie)
    check(st == 422, "delete: a wrong confirmation deletes nothing")
    st, h, _ = con.post_form("/topic/delete", {"csrf": csrf, "name": new, "confirm": new}, cookie)
    check(st == 303, f"delete: done ({st})")
    wait_until(lambda: con.get(f"/topic?name={new}")[0] == 404, 30, "the deleted topic is gone")
    check(True, "delete: the topic is gone")


def hostile(con, topic):
    cookie, csrf = con.session()
    st, _, html = con.post_form("/topics/create", {"csrf": "0" * 32, "name": "x-evil"}, cookie)
    check(st == 403, "a form without the cookie's CSRF value is 403")
    st, _, _ = con.post_form("/topics/create", {"csrf": csrf, "name": "x-evil"}, "")
    check(st == 403, "a form without the CSRF cookie is 403")
    st, _, _ = con.post_form("/topics/create", {"csrf": csrf, "name": "x-evil"}, cookie,
                             headers={"Origin": "http://evil.example"})
    check(st == 403, "a form from another origin is 403")
    st, _, _ = con.post_form("/topics/create", {"csrf": csrf, "name": "x-evil"}, cookie,
                             headers={"Sec-Fetch-Site": "cross-site"})
    check(st == 403, "a cross-site form (Sec-Fetch-Site) is 403")
    st, _, _ = con.request("POST", "/topics/create", body=f"csrf={csrf}&name=x-evil",
                           headers={"Content-Type": "text/plain", "Cookie": cookie})
    check(st == 415, "a text/plain body is 415")
    with socket.create_connection(("127.0.0.1", con.port), timeout=scaled(10)) as s:
        s.sendall(b"POST /messages/produce HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: 2000000\r\n\r\n")
        head = s.recv(4096).decode("latin-1")
    check(head.startswith("HTTP/1.1 413"), "a body over --max-body is 413 before it is read")
    with socket.create_connection(("127.0.0.1", con.port), timeout=scaled(10)) as s:
        s.sendall(b"GET /topics HTTP/1.1\r\n\r\n")
        head = s.recv(4096).decode("latin-1")
    check(head.startswith("HTTP/1.1 400"), "HTTP/1.1 without Host is 400")
    st, _, _ = con.request("DELETE", "/topics")
    check(st == 405, "another method on a page is 405")
    st, _, html = con.get("/topics?q=%3Cscript%3Ealert(1)%3C/script%3E")
    check(st == 200 and "<script>alert" not in html and "&lt;script&gt;" in html, "a search is escaped")
    st, _, _ = con.get(f"/messages?topic={topic}&partition=abc")
    check(st == 400, "a bad partition is 400")
    st, _, html = con.get(f"/messages?topic={topic}&key=%3Cimg%20src=x%3E")
    check("<img src=x>" not in html, "a filter is escaped")
    st, _, _ = con.get("/group?name=%00%ff")
    check(st == 404, "an odd group name is 404")
    check(run(["topics", "-b", con.args[3], "--list"]).stdout.find("x-evil") < 0, "no refused form made a topic")


def read_only(ro, topic, group):
    st, _, html = ro.get(f"/topic?name={topic}")
    check(st == 200 and "<form method=\"post\"" not in html and "read-only" in html, "read-only: no form, a badge")
    st, _, html = ro.get(f"/group?name={group}")
    check('id="reset-form"' not in html, "read-only: no reset form")
    cookie, csrf = ro.session("/topics")
    check(csrf is None, "read-only: no CSRF field anywhere")
    st, _, _ = ro.post_form("/topics/create", {"csrf": "a" * 32, "name": "ro-made"}, "samsa_csrf=" + "a" * 32)
    check(st == 403, "read-only: a change is 403 even with a matching CSRF pair")


if __name__ == "__main__":
    main()
