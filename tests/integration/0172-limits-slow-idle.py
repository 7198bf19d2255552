"""connections.frame.timeout.ms and connections.max.idle.ms against 100 connections that send one
byte a second (slowloris: a frame started and never finished) and 100 that send nothing after one
request: each slow one is closed within the frame deadline of its first byte, each idle one after
the idle timeout (not before: it is that timer, not another), and a well-behaved librdkafka
producer and consumer keep completing round trips throughout."""
import os
import selectors
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from limits_env import GoodClient, api_versions_frame, hostile  # noqa: E402
from harness import Broker, run, scaled  # noqa: E402

FRAME_S, IDLE_S, CONNS = 2.0, 4.0, 100
SLACK_S = 1.5  # the loop's turn, this test's polling, a loaded machine (scaled)


def main():
    extra = ["-o", f"connections.frame.timeout.ms={int(FRAME_S * 1000)}",
             "-o", f"connections.max.idle.ms={int(scaled(IDLE_S) * 1000)}"]
    with Broker(extra=extra) as b:
        run(["topics", "-b", b.addr, "--create", "--topic", "good", "--partitions", "1"])
        good = GoodClient(b.addr, "good")
        good.warm()

        frame = api_versions_frame(1)
        slow = [hostile(b.port) for _ in range(CONNS)]
        idle = [hostile(b.port) for _ in range(CONNS)]
        opened = time.monotonic()
        for s in idle:  # one whole request, answered, then silence
            s.sendall(frame)
        first_byte = {}
        closed = {}
        sel = selectors.DefaultSelector()
        for s in slow + idle:
            sel.register(s, selectors.EVENT_READ)
        stop = threading.Event()

        def dribble():  # one byte a second on every slow connection still open
            for i in range(len(frame)):
                for s in slow:
                    if s not in closed:
                        try:
                            s.send(frame[i:i + 1])
                            first_byte.setdefault(s, time.monotonic())
                        except OSError:
                            pass
                if stop.wait(1.0):
                    return

        def watch():  # when did the broker close each hostile connection?
            while not stop.is_set() and len(closed) < 2 * CONNS:
                for key, _ in sel.select(0.05):
                    s = key.fileobj
                    try:
                        data = s.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        closed[s] = time.monotonic()
                        sel.unregister(s)

        threads = [threading.Thread(target=dribble), threading.Thread(target=watch)]
        for t in threads:
            t.start()
        try:
            deadline = opened + scaled(IDLE_S + FRAME_S + 10)
            while len(closed) < 2 * CONNS and time.monotonic() < deadline:
                good.round_trip()
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert all(s in closed for s in slow), f"{sum(s not in closed for s in slow)} slow connections open"
        assert all(s in closed for s in idle), f"{sum(s not in closed for s in idle)} idle connections open"
        slow_after = [closed[s] - first_byte[s] for s in slow]
        idle_after = [closed[s] - opened for s in idle]
        print(f"slow closed {min(slow_after):.2f}-{max(slow_after):.2f} s after their first byte "
              f"(connections.frame.timeout.ms {FRAME_S} s); idle closed {min(idle_after):.2f}-"
              f"{max(idle_after):.2f} s after connecting (connections.max.idle.ms {scaled(IDLE_S)} s); "
              f"good round trips {good.rounds}, worst {good.worst * 1000:.0f} ms")
        assert max(slow_after) < scaled(FRAME_S + SLACK_S), "a slow connection outlived its frame deadline"
        assert min(slow_after) > FRAME_S - 0.5, "a slow connection was closed before its frame deadline"
        assert min(idle_after) > scaled(IDLE_S) - 0.5, "an idle connection was closed early"
        assert max(idle_after) < scaled(IDLE_S + SLACK_S), "an idle connection outlived connections.max.idle.ms"
        assert good.rounds >= 3, "the good client was not served while the hostile ones were open"
        good.round_trip()
        good.close()
        for s in slow + idle:
            s.close()
    print("ok")


if __name__ == "__main__":
    main()
