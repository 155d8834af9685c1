// piscina task: one item per call
module.exports = (x) => x * x;
