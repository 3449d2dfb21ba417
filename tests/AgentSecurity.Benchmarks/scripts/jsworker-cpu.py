#!/usr/bin/env python3
"""What one trivial job costs a warm JavaScript worker's thread, outside the pool and its sandbox (docs/sandboxes.md,
"A second look"): starts N workers with the runtime configuration the pool stages (tiered compilation off, workstation
non-concurrent GC, invariant globalization), lets each say `ready`, waits IDLE seconds, writes one trivial job and reads
the result, and reads the thread's CPU time and run-queue wait from /proc/PID/task/TID/schedstat before and after, and
the process's minor page faults from /proc/PID/stat. A worker exits once it has answered, so a job whose worker ended
before it could be read is not counted, and the CPU read just after an answer may include the start of its exit.

  dotnet build src/AgentSecurity.Sandbox.JsWorker -c Release
  python3 tests/AgentSecurity.Benchmarks/scripts/jsworker-cpu.py src/AgentSecurity.Sandbox.JsWorker/bin/Release/net10.0 8

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


def main():
    build, count = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 8
    idle = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
    folder = tempfile.mkdtemp(prefix="jsworker-cpu-")
    workers = []
    try:
        for name in os.listdir(build):
            if name.endswith(".dll"):
                shutil.copy(os.path.join(build, name), folder)
        with open(os.path.join(folder, "AgentSecurity.Sandbox.JsWorker.runtimeconfig.json"), "w") as f:
            json.dump(CONFIG, f)
        path = os.path.join(folder, "host.sock")
        server = socket.socket(socket.AF_UNIX)
        server.bind(path)
        server.listen(count)
        accepted = []
        threading.Thread(target=lambda: [accepted.append(server.accept()) for _ in range(count)], daemon=True).start()
        env = dict(os.environ, AGENTSEC_HOST_SOCKET=path, DOTNET_GCHeapHardLimit="0x30000000",
                   DOTNET_EnableDiagnostics="0", DOTNET_EnableWriteXorExecute="0")
        workers = [subprocess.Popen(["dotnet", "exec", os.path.join(folder, "AgentSecurity.Sandbox.JsWorker.dll")],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0)
                   for _ in range(count)]
        for worker in workers:
            if worker.stdout.readline() != b"ready\n":
                sys.exit("a worker did not start")
        cpu, waits, totals = [], [], []
        for worker in workers:
            time.sleep(idle)  # the worker idles as a pool's warm worker does; the wait is the point
            serving = serving_thread(worker.pid)
            before, faults = schedstat(worker.pid), minor_faults(worker.pid)
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
                print(f"  job: write to result {total:7.0f} µs  (the worker ended before its thread could be read)")
                continue
            run = sum(a[0] - before.get(t, (0, 0))[0] for t, a in after.items()) / 1e3
            wait = sum(a[1] - before.get(t, (0, 0))[1] for t, a in after.items()) / 1e3
            cpu.append(run)
            waits.append(wait)
            totals.append(total)
            print(f"  job: CPU {run:7.0f} µs  run-queue wait {wait:7.0f} µs  write to result {total:7.0f} µs"
                  f"  minor faults {faults}")
        print(f"median of the {len(cpu)} of {count} jobs counted: CPU {statistics.median(cpu):.0f} µs, run-queue wait {statistics.median(waits):.0f} µs,"
              f" write to result {statistics.median(totals):.0f} µs; load average {' '.join(open('/proc/loadavg').read().split()[:3])}")
    finally:
        for worker in workers:
            worker.kill()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
