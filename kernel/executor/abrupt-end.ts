/**
 * Ends of the executor process that run no "exit" handlers, caused by its own JavaScript: a signal
 * it sends itself (`process.kill(process.pid, "SIGKILL")`, to its process group too) and
 * `process.abort()`. `beforeAbruptEnd` runs a synchronous callback just before each, so that the
 * executor can hand the kernel what it has not delivered yet.
 */
export function beforeAbruptEnd(callback: () => void): void {
  const kill = process.kill.bind(process);
  process.kill = function (pid: number, signal?: string | number): true {
    if (signal !== 0 && hitsThisProcess(pid)) runSafely(callback);
    return kill(pid, signal);
  };
  const abort = process.abort.bind(process);
  process.abort = function (): never {
    runSafely(callback);
    return abort();
  };
}

/** Whether a signal sent to `pid` reaches this process: its pid, its process group (it leads it), or 0 (the caller's group). */
function hitsThisProcess(pid: number): boolean {
  const n = Number(pid);
  return n === process.pid || n === -process.pid || n === 0;
}

function runSafely(callback: () => void): void {
  try {
    callback();
  } catch {
    // what is not delivered stays so; the signal goes out regardless
  }
}
