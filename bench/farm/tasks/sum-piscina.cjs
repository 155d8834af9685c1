// piscina task: CPU-bound sum of 1..n
module.exports = (n) => { let s = 0; for (let i = 1; i <= n; i++) s += i; return s; };
