/**
 * "Did you mean" support: an edit distance that counts a swap of two neighbouring letters as one
 * edit (so `mpa` is one edit from `map`), and a picker of the closest candidate that is close
 * enough to be a plausible typo.
 */

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  const d: number[][] = [];
  for (let i = 0; i <= n; i++) {
    d.push(new Array<number>(m + 1).fill(0));
    d[i][0] = i;
  }
  for (let j = 0; j <= m; j++) d[0][j] = j;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i][j] = v;
    }
  }
  return d[n][m];
}

/**
 * The candidate closest to `word` (case-insensitive), or undefined when even the closest one
 * differs too much to be a typo of it (more than about half of its letters). Ties go to the
 * candidate listed first.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = editDistance(w, c.toLowerCase());
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.ceil(Math.max(w.length, best.length) / 2));
  // A prefix ("sta" for "start"/"status") is a plausible abbreviation even when far in letters.
  if (bestDistance <= limit) return best;
  const prefixed = candidates.find((c) => w.length >= 2 && c.toLowerCase().startsWith(w));
  return prefixed;
}
