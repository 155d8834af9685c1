// Reference for bench/farm/cpu-time.mjs: a bare forked child that answers every list of n with the
// CPU time (microseconds) each sum(1..n) took in it.
const sumCpu = function sumTo(n) { const c = process.cpuUsage(); let s = 0; for (let i = 1; i <= n; i++) s += i; const d = process.cpuUsage(c); return s > 0 ? d.user + d.system : -1; };
process.on("message", (ns) => process.send(ns.map(sumCpu)));
