#!/usr/bin/env python3
"""What one trivial job costs a warm JavaScript worker's thread, outside the pool and its sandbox (docs/sandboxes.md,
"A second look"): starts workers one at a time with the runtime configuration the pool stages (tiered compilation off, workstation
non-concurrent GC, invariant globalization), lets it say `ready`, waits IDLE seconds, writes one trivial job and reads
the result, and reads the thread's CPU time and run-queue wait from /proc/PID/task/TID/schedstat before and after, and
the process's minor page faults from /proc/PID/stat. A worker exits once it has answered, so a job whose worker ended
before it could be read is not counted, and the CPU read just after an answer may include the start of its exit.

  dotnet build src/AgentSecurity.Sandbox.JsWorker -c Release
  python3 tests/AgentSecurity.Benchmarks/scripts/jsworker-cpu.py src/AgentSecurity.Sandbox.JsWorker/bin/Release/net10.0 8 0.02,0.5,3 0,100

The third argument is a comma-separated list of idle times (seconds, default 0.5), the fourth one of keep-warm periods
(AGENTSEC_JS_KEEP_WARM_MILLIS, milliseconds, default 0: off); each round starts one worker for each pair, one at a
time, so that the settings are compared under the same load. It also prints the worker's CPU while it idled (the
keep-warm jobs' cost) as a share of a core.

Linux only; Ctrl-C ends it and its workers. The workers' host socket is served here and answers nothing (a trivial job
makes no host call).
"""
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

CONFIG = {"runtimeOptions": {"tfm": "net10.0", "framework": {"name": "Microsoft.NETCore.App", "version": "10.0.0"},
          "configProperties": {"System.GC.Server": False, "System.GC.Concurrent": False,
                               "System.Runtime.TieredCompilation": False, "System.Globalization.Invariant": True}}}
JOB = json.dumps({"code": "YWdlbnRzZWMub3V0cHV0KCcnKQ==",  # agentsec.output('')
                  "input": "", "wallMillis": 5000, "cpuMillis": 2000, "memoryBytes": 64 << 20,
                  "outputBytes": 65536, "hostCalls": 10}).encode() + b"\n"


def schedstat(pid):
    """CPU time and run-queue wait (ns) of each thread of the process."""
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run, wait, _ = (int(x) for x in f.read().split())
            threads[tid] = (run, wait)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return threads


def serving_thread(pid):
    """The worker's one thread that reads, runs and answers the job (JsWorkerProgram names it)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            if f.read().startswith("agentsec-js"):
                return tid
    return None


def minor_faults(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])


def run_one(folder, env, idle, keep_warm):
    """Starts one worker, waits for its `ready`, lets it idle IDLE seconds, runs the job; None if it could not be read."""
    env = dict(env, AGENTSEC_JS_KEEP_WARM_MILLIS=str(keep_warm))
    worker = subprocess.Popen(["dotnet", "exec", os.path.join(folder, "AgentSecurity.Sandbox.JsWorker.dll")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0)
    try:
        if worker.stdout.readline() != b"ready\n":
            sys.exit("a worker did not start")
        idle_before = schedstat(worker.pid)
        time.sleep(idle)  # the worker idles as a pool's warm worker does; the wait is the point
        serving = serving_thread(worker.pid)
        before, faults = schedstat(worker.pid), minor_faults(worker.pid)
        idle_cpu = sum(a[0] - idle_before.get(t, (0, 0))[0] for t, a in before.items()) / 1e9 / idle * 100
        started = time.monotonic_ns()
        worker.stdin.write(JOB)
        result = json.loads(worker.stdout.readline())
        total = (time.monotonic_ns() - started) / 1e3
        try:
            after, faults = schedstat(worker.pid), minor_faults(worker.pid) - faults
        except (FileNotFoundError, ProcessLookupError):
            after = {}
        if result.get("error"):
            sys.exit(f"the job failed: {result}")
        if serving not in after:
            # The worker exits once it has answered; a thread gone before it was read cannot be counted.
            print(f"  idle {idle:5.2f} s  keep-warm {keep_warm} ms  job: write to result {total:7.0f} µs  (the worker ended before its thread could be read)")
            return None
        run = sum(a[0] - before.get(t, (0, 0))[0] for t, a in after.items()) / 1e3
        wait = sum(a[1] - before.get(t, (0, 0))[1] for t, a in after.items()) / 1e3
        print(f"  idle {idle:5.2f} s  keep-warm {keep_warm} ms  job: CPU {run:7.0f} µs  run-queue wait {wait:7.0f} µs  write to result {total:7.0f} µs"
              f"  minor faults {faults}  keep-warm jobs {result.get('keepWarmJobs', 0)}  idle CPU {idle_cpu:.1f}% of a core", flush=True)
        return run, wait, total, idle_cpu
    finally:
        worker.kill()
        worker.wait()


def main():
    build, count = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 8
    idles = [float(x) for x in (sys.argv[3] if len(sys.argv) > 3 else "0.5").split(",")]
    keep_warms = [int(x) for x in (sys.argv[4] if len(sys.argv) > 4 else "0").split(",")]
    folder = tempfile.mkdtemp(prefix="jsworker-cpu-")
    try:
        for name in os.listdir(build):
            if name.endswith(".dll"):
                shutil.copy(os.path.join(build, name), folder)
        with open(os.path.join(folder, "AgentSecurity.Sandbox.JsWorker.runtimeconfig.json"), "w") as f:
            json.dump(CONFIG, f)
        path = os.path.join(folder, "host.sock")
        server = socket.socket(socket.AF_UNIX)
        server.bind(path)
        server.listen(8)
        accepted = []

        def accept():
            while True:
                accepted.append(server.accept())

        threading.Thread(target=accept, daemon=True).start()
        env = dict(os.environ, AGENTSEC_HOST_SOCKET=path, DOTNET_GCHeapHardLimit="0x30000000",
                   DOTNET_EnableDiagnostics="0", DOTNET_EnableWriteXorExecute="0")
        figures = {(idle, keep_warm): [] for idle in idles for keep_warm in keep_warms}
        # The settings alternate, one worker at a time, so that each is measured under the same load.
        for _ in range(count):
            for setting in figures:
                if (figure := run_one(folder, env, *setting)) is not None:
                    figures[setting].append(figure)
        load = " ".join(open("/proc/loadavg").read().split()[:3])
        for (idle, keep_warm), jobs in figures.items():
            if jobs:
                cpu, waits, totals, idle_cpu = zip(*jobs)
                print(f"idle {idle:5.2f} s, keep-warm {keep_warm:4} ms: median of the {len(jobs)} of {count} jobs counted: CPU {statistics.median(cpu):.0f} µs,"
                      f" run-queue wait {statistics.median(waits):.0f} µs, write to result {statistics.median(totals):.0f} µs,"
                      f" the worker's CPU while idle {statistics.median(idle_cpu):.1f}% of a core")
        print(f"load average {load}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
