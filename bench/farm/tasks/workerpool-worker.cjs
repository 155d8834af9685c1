// workerpool worker script exposing the benchmark tasks
const workerpool = require("workerpool");
workerpool.worker({
  square: (x) => x * x,
  sum: (n) => { let s = 0; for (let i = 1; i <= n; i++) s += i; return s; },
  one: () => 1,
});
