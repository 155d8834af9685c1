// worker-farm module: callback-style tasks
module.exports = {
  square: (x, cb) => cb(null, x * x),
  sum: (n, cb) => { let s = 0; for (let i = 1; i <= n; i++) s += i; cb(null, s); },
  one: (_x, cb) => cb(null, process.pid),
};
