/**
 * The display API of every cell through the real kernel: each MIME helper, ids and in-place
 * updates, clearOutput, bad arguments, output from timers a cell left running, and stdin.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKernel, type RunningKernel } from "../helpers/start-kernel.js";

let k: RunningKernel;
beforeAll(async () => {
  k = await startKernel();
});
afterAll(async () => {
  await k?.stop();
});

describe("display helpers", () => {
  it("sends each kind with its MIME type and a text/plain fallback", async () => {
    const r = await k.client.execute(
      [
        'display.markdown("# Title");',
        'display.svg("<svg></svg>");',
        "display.png(new Uint8Array([137, 80, 78, 71]));",
        'display.jpeg("/9j/AA==");',
        "display.json({ a: [1, 2] });",
        'display.vegaLite({ mark: "bar", data: { values: [] } });',
        'display.text("plain words");',
        'display.latex("$x^2$");',
        "display(new Set([1]));",
      ].join("\n"),
    );
    expect(r.error).toBeUndefined();
    const data = r.displays.map((m) => m.content.data);
    expect(r.displays.every((m) => m.header.msg_type === "display_data")).toBe(true);
    expect(data[0]["text/markdown"]).toBe("# Title");
    expect(data[1]["image/svg+xml"]).toBe("<svg></svg>");
    expect(data[2]["image/png"]).toBe(Buffer.from([137, 80, 78, 71]).toString("base64"));
    expect(data[3]["image/jpeg"]).toBe("/9j/AA==");
    expect(data[4]["application/json"]).toEqual({ a: [1, 2] });
    expect(data[5]["application/vnd.vegalite.v5+json"]).toEqual({ mark: "bar", data: { values: [] } });
    expect(data[6]).toEqual({ "text/plain": "plain words" });
    expect(data[7]["text/latex"]).toBe("$x^2$");
    expect(data[8]["text/plain"]).toBe("Set(1) { 1 }");
    for (const d of data) expect(typeof d["text/plain"]).toBe("string");
  });

  it("picks the Vega-Lite version from $schema", async () => {
    const r = await k.client.execute('display.vegaLite({ $schema: "https://vega.github.io/schema/vega-lite/v4.json", mark: "point" })');
    expect(Object.keys(r.displays[0].content.data)).toContain("application/vnd.vegalite.v4+json");
  });

  it("replaces an output in place by id, also from a later cell", async () => {
    const first = await k.client.execute('display.html("<p>0%</p>", { id: "progress" })');
    expect(first.displays[0].content.transient).toEqual({ display_id: "progress" });
    const later = await k.client.execute('for (const p of [50, 100]) display.html(`<p>${p}%</p>`, { id: "progress", update: true });');
    expect(later.displays.map((m) => m.header.msg_type)).toEqual(["update_display_data", "update_display_data"]);
    expect(later.displays[1].content.data["text/html"]).toBe("<p>100%</p>");
    expect(later.displays[1].content.transient.display_id).toBe("progress");
  });

  it("clears output, now or when the next output arrives", async () => {
    const r = await k.client.execute('console.log("a"); clearOutput(); clearOutput({ wait: true }); display.text("b");');
    const kinds = r.iopub.map((m) => m.header.msg_type).filter((t) => t !== "status" && t !== "execute_input");
    expect(kinds).toEqual(["stream", "clear_output", "clear_output", "display_data"]);
    const clears = r.displays.filter((m) => m.header.msg_type === "clear_output");
    expect(clears.map((m) => m.content.wait)).toEqual([false, true]);
  });

  it("rejects bad arguments with a message saying what to pass", async () => {
    const r = await k.client.execute('display.html("<p/>", { update: true })');
    expect(r.error!.ename).toBe("TypeError");
    expect(r.error!.evalue).toContain("needs the `id`");
    const r2 = await k.client.execute("display.png(42 as any)");
    expect(r2.error!.evalue).toContain("image bytes");
  });

  it("is also importable from tspool/display", async () => {
    const r = await k.client.execute('import { display as show } from "tspool/display";\nshow.html("<i>pkg</i>")');
    expect(r.error).toBeUndefined();
    expect(r.displays[0].content.data["text/html"]).toBe("<i>pkg</i>");
  });
});

describe("input", () => {
  it("asks over stdin and hides passwords", async () => {
    const r = await k.client.execute('const who = await input("Who? ");\nconst pw = await input.password("Password: ");\n`${who}:${pw.length}`', {
      onInput: (prompt) => (prompt === "Who? " ? "ada" : "secret"),
    });
    expect(r.inputRequests.map((m) => m.content)).toEqual([
      { prompt: "Who? ", password: false },
      { prompt: "Password: ", password: true },
    ]);
    expect(r.result!.data["text/plain"]).toBe("'ada:6'");
  });

  it("explains why input is impossible when the request does not allow stdin", async () => {
    const r = await k.client.execute('await input("x")', { allow_stdin: false });
    expect(r.error!.evalue).toContain("allow_stdin=false");
    expect(r.inputRequests).toHaveLength(0);
  });
});
