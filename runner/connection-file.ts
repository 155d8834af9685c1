/**
 * Writes a fresh Jupyter connection file for a kernel the runner starts: five free localhost
 * ports and a random signing key, in a private temporary directory.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConnectionInfo } from "../kernel/wire/connection.js";

/** Asks the OS for `count` distinct free TCP ports on 127.0.0.1 (all held open at once, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<import("node:net").Server>((resolve, reject) => {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as import("node:net").AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

export interface ConnectionFile {
  path: string;
  info: ConnectionInfo;
  /** Removes the file and its directory. */
  remove(): void;
}

export async function writeConnectionFile(kernelName = "tspool"): Promise<ConnectionFile> {
  const [shell, control, iopub, stdin, hb] = await freePorts(5);
  const info: ConnectionInfo = {
    transport: "tcp",
    ip: "127.0.0.1",
    shell_port: shell,
    control_port: control,
    iopub_port: iopub,
    stdin_port: stdin,
    hb_port: hb,
    key: randomBytes(32).toString("hex"),
    signature_scheme: "hmac-sha256",
    kernel_name: kernelName,
  };
  const dir = mkdtempSync(join(tmpdir(), "tspool-run-"));
  const path = join(dir, "kernel.json");
  writeFileSync(path, JSON.stringify(info, null, 2), { mode: 0o600 });
  return { path, info, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
