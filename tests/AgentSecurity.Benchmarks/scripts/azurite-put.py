#!/usr/bin/env python3
"""What one Azure Queue write costs on Azurite itself, with no kernel, no Orleans and no SDK: the floor under a denial's
wait (a denial is answered only after the queue write holding its event). Raw HTTP "Put Message" requests with SharedKey
authentication on one kept-alive connection, one at a time, a 600-byte message (about a denial's event), the first 50 of
each round not counted.

  python3 tests/AgentSecurity.Benchmarks/scripts/azurite-put.py [--rounds R] [--messages N]
      starts Azurite from azurite/node_modules itself, alternately with its data on disk (a fresh folder, as run.sh
      keeps it) and --inMemoryPersistence, R rounds each, and prints each round's p50/p90/p99 and the medians
  python3 tests/AgentSecurity.Benchmarks/scripts/azurite-put.py --port QUEUE_PORT [--messages N]
      one round against a running Azurite's queue endpoint (a cluster's, next to `./agentsec bench denials`)
"""
import argparse, base64, hashlib, hmac, http.client, os, shutil, socket, statistics, subprocess, tempfile, time
from email.utils import formatdate

ACCOUNT = "devstoreaccount1"
KEY = base64.b64decode("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==")
MESSAGE = b"<QueueMessage><MessageText>" + base64.b64encode(b"x" * 600) + b"</MessageText></QueueMessage>"


def request(conn, verb, path, body=b""):
    headers = {"x-ms-date": formatdate(usegmt=True), "x-ms-version": "2021-12-02", "Content-Length": str(len(body))}
    if body:
        headers["Content-Type"] = "application/xml"
    canonical = "".join(f"{k}:{v}\n" for k, v in sorted((k.lower(), v) for k, v in headers.items() if k.lower().startswith("x-ms-")))
    signed = "\n".join([verb, "", "", str(len(body)) if body else "", "", headers.get("Content-Type", ""), "", "", "", "", "", ""])
    signed += "\n" + canonical + f"/{ACCOUNT}/{ACCOUNT}{path}"
    signature = base64.b64encode(hmac.new(KEY, signed.encode(), hashlib.sha256).digest()).decode()
    headers["Authorization"] = f"SharedKey {ACCOUNT}:{signature}"
    conn.request(verb, f"/{ACCOUNT}{path}", body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    if response.status >= 300:
        raise SystemExit(f"{verb} {path}: {response.status} {data[:300]!r}")


def round_of(port, messages):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    queue = f"/putprobe{int(time.time() * 1000) % 1000000}"
    request(conn, "PUT", queue)
    times = []
    for _ in range(messages + 50):
        started = time.perf_counter()
        request(conn, "POST", queue + "/messages", MESSAGE)
        times.append((time.perf_counter() - started) * 1000)
    times = times[50:]
    q = statistics.quantiles(times, n=100)
    return statistics.median(times), q[89], q[98]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_azurite(in_memory, messages):
    root = os.path.dirname(os.path.abspath(__file__))
    azurite = os.path.join(root, "..", "..", "..", "azurite", "node_modules", ".bin", "azurite")
    data = tempfile.mkdtemp(prefix="azurite-put-")
    port = free_port()
    storage = ["--inMemoryPersistence"] if in_memory else ["--location", data]
    process = subprocess.Popen([azurite, "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--blobPort", "0",
                                "--tablePort", "0", "--queueHost", "127.0.0.1", "--queuePort", str(port), *storage],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:  # polls a process with a deadline: Azurite announces nothing when it listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("Azurite did not start")
                time.sleep(0.1)
        return round_of(port, messages)
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(data, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    if args.port:
        p50, p90, p99 = round_of(args.port, args.messages)
        print(f"put message on :{args.port}: p50 {p50:.3f} ms, p90 {p90:.3f} ms, p99 {p99:.3f} ms ({args.messages} messages)")
        return
    results = {False: [], True: []}
    for r in range(args.rounds):
        for in_memory in ([False, True] if r % 2 == 0 else [True, False]):
            p50, p90, p99 = with_azurite(in_memory, args.messages)
            results[in_memory].append(p50)
            print(f"round {r}: {'in memory' if in_memory else 'on disk  '}: p50 {p50:.3f} ms, p90 {p90:.3f} ms, p99 {p99:.3f} ms")
    for in_memory in (False, True):
        print(f"Azurite {'in memory' if in_memory else 'on disk'}: a queue write's p50, median of {args.rounds} rounds: "
              f"{statistics.median(results[in_memory]):.3f} ms ({args.messages} messages a round)")
    print("load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
