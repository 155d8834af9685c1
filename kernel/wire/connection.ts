/**
 * The Jupyter connection file: where the five sockets live and how messages are signed.
 */
import { readFileSync } from "node:fs";

export interface ConnectionInfo {
  transport: "tcp" | "ipc";
  ip: string;
  shell_port: number;
  control_port: number;
  iopub_port: number;
  stdin_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string;
  kernel_name?: string;
}

export type Channel = "shell" | "control" | "iopub" | "stdin" | "hb";

const PORT_FIELD: Record<Channel, keyof ConnectionInfo> = {
  shell: "shell_port",
  control: "control_port",
  iopub: "iopub_port",
  stdin: "stdin_port",
  hb: "hb_port",
};

/** Reads and checks a connection file; throws an Error that says what is wrong with it. */
export function readConnectionFile(path: string): ConnectionInfo {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`Cannot read connection file ${path}: ${(e as Error).message}`);
  }
  let raw: any;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`Connection file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseConnectionInfo(raw, path);
}

export function parseConnectionInfo(raw: any, source = "connection info"): ConnectionInfo {
  if (!raw || typeof raw !== "object") throw new Error(`${source}: expected a JSON object`);
  const transport = raw.transport ?? "tcp";
  if (transport !== "tcp" && transport !== "ipc") {
    throw new Error(`${source}: transport must be "tcp" or "ipc", got ${JSON.stringify(transport)}`);
  }
  for (const ch of Object.keys(PORT_FIELD) as Channel[]) {
    const v = raw[PORT_FIELD[ch]];
    if (!Number.isInteger(v) || v < 0 || v > 65535) {
      throw new Error(`${source}: ${PORT_FIELD[ch]} must be a port number, got ${JSON.stringify(v)}`);
    }
  }
  return {
    transport,
    ip: typeof raw.ip === "string" && raw.ip ? raw.ip : "127.0.0.1",
    shell_port: raw.shell_port,
    control_port: raw.control_port,
    iopub_port: raw.iopub_port,
    stdin_port: raw.stdin_port,
    hb_port: raw.hb_port,
    key: typeof raw.key === "string" ? raw.key : "",
    signature_scheme: typeof raw.signature_scheme === "string" && raw.signature_scheme ? raw.signature_scheme : "hmac-sha256",
    kernel_name: typeof raw.kernel_name === "string" ? raw.kernel_name : undefined,
  };
}

/** The zeromq endpoint of a channel, e.g. tcp://127.0.0.1:5555 or ipc://kernel-ipc-1. */
export function endpoint(info: ConnectionInfo, channel: Channel): string {
  const port = info[PORT_FIELD[channel]] as number;
  return info.transport === "tcp" ? `tcp://${info.ip}:${port}` : `ipc://${info.ip}-${port}`;
}
