/**
 * The input history of the kernel, kept across restarts in a JSONL file (no sqlite):
 *
 *   {"session":3,"start":"2026-01-01T00:00:00.000Z"}      a kernel session started
 *   {"session":3,"line":1,"source":"const x = 1"}          a cell stored with store_history
 *
 * Every kernel start is a new session numbered one past the highest in the file. The file lives
 * at $TSPOOL_HISTORY_FILE, else `<jupyter data dir>/tspool/history.jsonl`.
 */
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface HistoryEntry {
  session: number;
  line: number;
  source: string;
}

/** Jupyter's data directory, as jupyter_core computes it (without Python). */
export function jupyterDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  const home = homedir();
  if (process.platform === "darwin") return join(home, "Library", "Jupyter");
  if (process.platform === "win32") return join(env.APPDATA ?? join(home, "AppData", "Roaming"), "jupyter");
  return join(env.XDG_DATA_HOME || join(home, ".local", "share"), "jupyter");
}

export function defaultHistoryPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.TSPOOL_HISTORY_FILE || join(jupyterDataDir(env), "tspool", "history.jsonl");
}

/** Whole-string glob match: `*` any run, `?` one character, `[abc]`/`[!abc]` a class. Case-sensitive. */
export function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") re += "[\\s\\S]*";
    else if (c === "?") re += "[\\s\\S]";
    else if (c === "[") {
      const close = pattern.indexOf("]", i + 2);
      if (close < 0) re += "\\[";
      else {
        let body = pattern.slice(i + 1, close);
        const negate = body.startsWith("!") || body.startsWith("^");
        if (negate) body = body.slice(1);
        re += "[" + (negate ? "^" : "") + body.replace(/[\\\]]/g, "\\$&") + "]";
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, "\\$&");
  }
  return new RegExp("^" + re + "$");
}

function dedupeKeepLast(entries: HistoryEntry[]): HistoryEntry[] {
  const seen = new Set<string>();
  const out: HistoryEntry[] = [];
  for (let i = entries.length - 1; i >= 0; i--) {
    if (seen.has(entries[i].source)) continue;
    seen.add(entries[i].source);
    out.push(entries[i]);
  }
  return out.reverse();
}

export class History {
  readonly session: number;
  private readonly entries: HistoryEntry[] = [];
  private writable = true;

  private constructor(readonly path: string) {
    let maxSession = 0;
    let text = "";
    try {
      text = readFileSync(path, "utf8");
    } catch {
      /* no history yet */
    }
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      try {
        const rec = JSON.parse(line);
        if (!Number.isInteger(rec.session)) continue;
        maxSession = Math.max(maxSession, rec.session);
        if (Number.isInteger(rec.line) && typeof rec.source === "string") {
          this.entries.push({ session: rec.session, line: rec.line, source: rec.source });
        }
      } catch {
        /* a torn last line from a killed kernel: skip it */
      }
    }
    this.session = maxSession + 1;
    this.write({ session: this.session, start: new Date().toISOString() });
  }

  static open(path: string = defaultHistoryPath()): History {
    return new History(path);
  }

  private write(record: object): void {
    if (!this.writable) return;
    const line = JSON.stringify(record) + "\n";
    try {
      try {
        appendFileSync(this.path, line);
      } catch (e) {
        // Only the first write (or one after the directory went away) has to create the directory.
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        mkdirSync(dirname(this.path), { recursive: true });
        appendFileSync(this.path, line);
      }
    } catch (e) {
      this.writable = false;
      process.stderr.write(`[tspool] history is not saved: cannot write ${this.path}: ${(e as Error).message}\n`);
    }
  }

  /** Records a cell of the current session. */
  append(line: number, source: string): void {
    const entry = { session: this.session, line, source };
    this.entries.push(entry);
    this.write(entry);
  }

  /** The last `n` cells over all sessions, oldest first. */
  tail(n: number, unique = false): HistoryEntry[] {
    const all = unique ? dedupeKeepLast(this.entries) : this.entries;
    return n > 0 ? all.slice(-n) : [...all];
  }

  /**
   * Cells `start <= line < stop` of one session. `session` 0 (or absent) is the current one, a
   * negative number counts back from it. A missing or non-positive `stop` means "to the end".
   */
  range(session: number | undefined, start = 1, stop?: number | null): HistoryEntry[] {
    const s = !session ? this.session : session < 0 ? this.session + session : session;
    return this.entries.filter(
      (e) => e.session === s && e.line >= (start ?? 1) && (stop == null || stop <= 0 || e.line < stop),
    );
  }

  /** Cells whose source matches the glob `pattern`; the last `n` of them when n > 0. */
  search(pattern: string, n?: number | null, unique = false): HistoryEntry[] {
    const re = globToRegExp(pattern || "*");
    let found = this.entries.filter((e) => re.test(e.source));
    if (unique) found = dedupeKeepLast(found);
    return n && n > 0 ? found.slice(-n) : found;
  }
}
