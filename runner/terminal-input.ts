/**
 * Answers a cell's `input()` / `input.password()` from the terminal that runs `tspool run`
 * (only when its stdin is a terminal; otherwise cells are run with allow_stdin=false and the
 * kernel reports that input is not available).
 */
import { createInterface } from "node:readline";

/** The line the user typed, or null when they pressed Ctrl-C (which is then passed on as SIGINT). */
export function askLine(prompt: string, password: boolean): Promise<string | null> {
  return password ? askHidden(prompt) : askVisible(prompt);
}

function askVisible(prompt: string): Promise<string | null> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    let done = false;
    rl.on("SIGINT", () => {
      if (done) return;
      done = true;
      rl.close();
      process.stdout.write("\n");
      resolve(null);
      process.emit("SIGINT");
    });
    rl.question(prompt, (answer) => {
      done = true;
      rl.close();
      resolve(answer);
    });
  });
}

/** Reads a line without echoing it, in raw mode: Enter ends, Backspace deletes, Ctrl-C cancels. */
function askHidden(prompt: string): Promise<string | null> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    // Echo goes off before the prompt shows: whatever is typed (or pasted) once it appears stays hidden.
    stdin.setRawMode(true);
    stdin.resume();
    process.stdout.write(prompt);
    let value = "";
    const finish = (result: string | null) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stdout.write("\n");
      resolve(result);
      if (result === null) process.emit("SIGINT");
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return finish(value);
        if (ch === "\u0003") return finish(null); // Ctrl-C
        if (ch === "\u007f" || ch === "\b") value = [...value].slice(0, -1).join("");
        else if (ch >= " ") value += ch;
      }
    };
    stdin.on("data", onData);
  });
}
