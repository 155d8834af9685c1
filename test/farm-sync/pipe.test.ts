import { describe, expect, it } from "vitest";
import { Connection, ConnectionClosedError, Pipe, SyncTimeoutError, SyncUsageError, Value } from "../../dist/farm/index.js";
import { kinds, usePools } from "./pools.js";

const MESSAGES = 30;

describe("Pipe", () => {
  const pool = usePools();

  it("is duplex by default; a one-way pipe refuses the wrong direction", async () => {
    const [a, b] = Pipe<string>();
    await a.send("to b");
    await b.send("to a");
    expect(await b.recv()).toBe("to b");
    expect(await a.recv()).toBe("to a");
    const [rx, tx] = Pipe<number>({ duplex: false });
    expect([rx.readable, rx.writable, tx.readable, tx.writable]).toEqual([true, false, false, true]);
    await expect(rx.send(1)).rejects.toBeInstanceOf(SyncUsageError);
    await expect(tx.recv()).rejects.toThrow(/can only send: receive at the other end/);
  });

  it("poll, recv timeout, and close: the other end drains what was sent, then gets ConnectionClosedError", async () => {
    const [a, b] = Pipe<number>();
    expect(await b.poll()).toBe(false);
    await expect(b.recv({ timeout: 10 })).rejects.toBeInstanceOf(SyncTimeoutError);
    await a.send(1);
    expect(await b.poll({ timeout: 100 })).toBe(true);
    await a.send(2);
    await a.close();
    expect(await b.recv()).toBe(1);
    expect(await b.recv()).toBe(2);
    await expect(b.recv()).rejects.toThrow(/the other end of the Pipe was closed/);
    await expect(b.send(3)).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(a.send(3)).rejects.toThrow(/send\(\) on a closed Connection/);
  });

  for (const kind of kinds) {
    describe(kind.name, () => {
      it("a shared mailbox overwritten by a fast sender loses messages; a Pipe delivers all, in order", async () => {
        const mailbox = new Value("i32", -1);
        const sendAll = async (out: Value<"i32"> | Connection<number>, n: number) => {
          for (let i = 0; i < n; i++) {
            if ("send" in out) await out.send(i);
            else await out.set(i);
            await new Promise((r) => setImmediate(r));
          }
          return n;
        };
        const seen = new Set<number>();
        const sending = pool(kind).run(sendAll, { args: [mailbox, MESSAGES], targets: [0] });
        let last = -1;
        while (last < MESSAGES - 1) {
          await new Promise((r) => setTimeout(r, 3));
          last = await mailbox.get();
          if (last >= 0) seen.add(last);
        }
        await sending;
        expect(seen.size).toBeLessThan(MESSAGES);

        const [mine, theirs] = Pipe<number>();
        const piped = pool(kind).run(sendAll, { args: [theirs, MESSAGES], targets: [0] });
        const got: number[] = [];
        for (let i = 0; i < MESSAGES; i++) {
          await new Promise((r) => setTimeout(r, 3));
          got.push(await mine.recv({ timeout: 5000 }));
        }
        await piped;
        expect(got).toEqual(Array.from({ length: MESSAGES }, (_, i) => i));
      });

      it("connects two workers: one doubles what the other sends back and forth", async () => {
        const [left, right] = Pipe<number>();
        const asker = pool(kind).run(async (c: Connection<number>) => {
          const answers: number[] = [];
          for (let i = 1; i <= 5; i++) {
            await c.send(i);
            answers.push(await c.recv({ timeout: 5000 }));
          }
          await c.close();
          return answers;
        }, { args: [left], targets: [0] });
        const doubler = pool(kind).run(async (c: Connection<number>) => {
          let served = 0;
          for (;;) {
            let x: number;
            try {
              x = await c.recv({ timeout: 5000 });
            } catch (e) {
              return `${served} then ${(e as Error).name}`;
            }
            await c.send(x * 2);
            served++;
          }
        }, { args: [right], targets: [1] });
        expect(await asker).toEqual([[2, 4, 6, 8, 10]]);
        expect(await doubler).toEqual(["5 then ConnectionClosedError"]);
      });
    });
  }
});
