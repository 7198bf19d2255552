"""Slow clients cannot take `samsa web` away from everyone else (docs/web.md "Security").

1. One address opens 300 connections and sends its headers one byte at a time: only
   --max-conns-per-ip of them stay open, and a well-behaved client on another address gets every
   /healthz answered (8 of 8) while it goes on.
2. Connections from many addresses that trickle their headers are closed by the server once
   --header-timeout has passed (libmicrohttpd's own timeout is an idle one, which a byte every
   second never trips), and so is a body that trickles past --body-timeout.
The attack is bounded (connections, bytes, seconds) and only targets 127.0.0.0/8.
"""
import http.client
import socket
import threading
import time

from web_env import Web, check, cluster, finish, scaled, topics, wait_until

PER_IP = 32
HEADER_TIMEOUT_S = 2


def slow_conn(src, port):
    s = socket.socket()
    s.settimeout(5)
    s.bind((src, 0))
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    except OSError:
        s.close()
        return None
    return s


def alive(s):
    """Send one more header byte; @returns False once the server has closed the connection."""
    try:
        s.sendall(b"X")
        s.setblocking(False)
        try:
            return s.recv(1) != b""  # data would be an answer; b"" is EOF
        except BlockingIOError:
            return True
        finally:
            s.setblocking(True)
    except OSError:
        return False


def trickle(socks, stop, every=1.0):
    while not stop.is_set():
        for s in socks:
            alive(s)
        stop.wait(every)


def healthz(port):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=scaled(5))
        c.request("GET", "/healthz")
        st = c.getresponse().status
        c.close()
        return st
    except OSError:
        return None


def main():
    ops, res = topics()
    with cluster() as b:
        web = Web(b, ops, res, extra=["--max-conns-per-ip", str(PER_IP), "--header-timeout",
                                      f"{HEADER_TIMEOUT_S}s", "--body-timeout", "3s"]).start()
        socks = []
        try:
            # --- 1. one address, 300 slow connections
            socks = [s for s in (slow_conn("127.0.0.2", web.port) for _ in range(300)) if s]
            # the server closes what is over the cap at once: wait (with a deadline) for that
            open_ = socks
            try:
                wait_until(lambda: len([s for s in open_ if alive(s)]) <= PER_IP, 10, "the cap to apply")
            except AssertionError:
                pass
            open_ = [s for s in socks if alive(s)]
            check(len(open_) <= PER_IP, f"one address keeps at most {PER_IP} connections ({len(open_)} of 300)")
            stop = threading.Event()
            t = threading.Thread(target=trickle, args=(open_, stop), daemon=True)
            t.start()
            answers = [healthz(web.port) for _ in range(8)]
            stop.set()
            t.join()
            check(answers.count(200) == 8, f"a well-behaved client meanwhile: {answers.count(200)} of 8 /healthz")
            for s in socks:
                s.close()

            # --- 2. many addresses, each under the cap: the header deadline closes them
            socks = [s for s in (slow_conn(f"127.0.0.{3 + i % 10}", web.port) for i in range(200)) if s]
            t0 = time.monotonic()
            deadline = t0 + scaled(HEADER_TIMEOUT_S + 6)
            still = socks
            while still and time.monotonic() < deadline:
                still = [s for s in still if alive(s)]
                time.sleep(0.5)
            took = time.monotonic() - t0
            check(not still, f"trickled headers from 10 addresses: all 200 closed after {took:.1f} s "
                             f"(--header-timeout {HEADER_TIMEOUT_S}s; {len(still)} left)")
            check(healthz(web.port) == 200, "and the server answers")
            for s in socks:
                s.close()

            # --- a body that trickles is cut at --body-timeout
            s = socket.create_connection(("127.0.0.1", web.port), timeout=10)
            s.sendall(b"POST /api/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 1000\r\n\r\n{")
            t0 = time.monotonic()
            while alive(s) and time.monotonic() - t0 < scaled(10):
                time.sleep(0.5)
            took = time.monotonic() - t0
            check(took < scaled(7), f"a trickled body is closed after {took:.1f} s (--body-timeout 3s)")
            s.close()
        finally:
            for s in socks:
                s.close()
            web.stop()
    finish()


if __name__ == "__main__":
    main()
