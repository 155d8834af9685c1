// Reference for the CPU-bound benchmark: a bare child_process.fork child (no pool, no capture, no
// interrupt helper) that sums 1..n for every n it is sent and answers with the sums.
function sumTo(n) { let s = 0; for (let i = 1; i <= n; i++) s += i; return s; }
process.on("message", (ns) => process.send(ns.map(sumTo)));
