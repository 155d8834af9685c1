"""Python multiprocessing.Pool figures for bench/farm/run.mjs; prints one JSON object.

Modes:
  tiny '{"20000": 15, "1000000": 5}'  median seconds of Pool(2).map(square, range(n)), automatic chunksize
  first                               median seconds from Pool(2) creation to the first apply result
  rss                                 RSS (MB) of each of the 2 workers after a small map
  cpu '{"n": 50000000, "tasks": 8, "reps": 3}'
                                      CPU-bound efficiency: `tasks` x sum(1..n) serially in this process,
                                      then with Pool(2).map (automatic chunksize), alternating; medians
  death                               seconds from SIGKILL of a worker to a task answered by its
                                      replacement (the caller kills this mode if it hangs: an idle
                                      worker waits for tasks holding the task queue's lock, so
                                      killing it can leave the lock taken for ever)
"""
import json
import os
import signal
import statistics
import sys
import time
from multiprocessing import Pool


def square(x):
    return x * x


def one(_=None):
    return os.getpid()


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def tiny(runs):
    out = {}
    with Pool(2) as pool:
        pool.map(square, range(1000))
        for n_str, reps in runs.items():
            data = list(range(int(n_str)))
            times = []
            for _ in range(reps):
                t = time.perf_counter()
                res = pool.map(square, data)
                times.append(time.perf_counter() - t)
            assert res[-1] == (len(data) - 1) ** 2
            out[n_str] = statistics.median(times)
    return out


def first():
    times = []
    for _ in range(5):
        t = time.perf_counter()
        with Pool(2) as p:
            p.apply(one)
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def sum_to(n):
    return sum(range(1, n + 1))


def cpu(opts):
    n, tasks, reps = opts["n"], opts["tasks"], opts["reps"]
    serial, parallel, eff = [], [], []
    with Pool(2) as pool:
        assert pool.map(sum_to, [n] * tasks) == [n * (n + 1) // 2] * tasks
        for _ in range(reps):
            t = time.perf_counter()
            for _ in range(tasks):
                sum_to(n)
            s = time.perf_counter() - t
            t = time.perf_counter()
            pool.map(sum_to, [n] * tasks)
            p = time.perf_counter() - t
            serial.append(s)
            parallel.append(p)
            eff.append(s / (p * 2))
    return {"serial": statistics.median(serial), "parallel": statistics.median(parallel), "efficiency": statistics.median(eff)}


def rss():
    with Pool(2) as pool:
        pool.map(square, range(1000))
        return [rss_mb(p.pid) for p in pool._pool]


def death():
    pool = Pool(2)
    pool.map(square, range(1000))
    old = set(p.pid for p in pool._pool)
    t = time.perf_counter()
    os.kill(pool._pool[0].pid, signal.SIGKILL)
    while True:
        pid = pool.apply(one)
        if pid not in old:
            return time.perf_counter() - t


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "tiny":
        result = tiny(json.loads(sys.argv[2]))
    elif mode == "first":
        result = first()
    elif mode == "cpu":
        result = cpu(json.loads(sys.argv[2]))
    elif mode == "rss":
        result = rss()
    else:
        result = death()
    print(json.dumps({"python": sys.version.split()[0], "result": result}), flush=True)
    os._exit(0)
