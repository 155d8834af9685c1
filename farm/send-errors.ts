/**
 * The error a call gets when what it gives a worker cannot be sent: it names the part (argument,
 * item, pushed binding, dependency value), where inside it the problem is, and why (a getter
 * threw, nested too deeply, shared memory for a process, a value structured clone refuses).
 * Only the call fails; nothing reached the worker.
 */
import { serialize } from "node:v8";
import { isStackOverflow, messageOf, UnsendableValueError, type PathStep } from "./handles.js";
import type { JobBody, JobMessage } from "./messages.js";

const ADVICE = "Arguments, items, pushed bindings and dependency values must be plain data (structured clone), or tspool handles.";

/** A dependency value that could not be encoded (the error, with the dependency's name). */
export class DependencyUnsendable extends Error {
  constructor(readonly dep: string, readonly error: unknown) {
    super(`dependency "${dep}" cannot be sent`);
  }
}

function partOf(body: JobBody, first: PathStep | undefined): string | null {
  if (body.kind === "call") return typeof first === "number" ? `argument ${first}` : null;
  if (body.kind === "map") return typeof first === "number" ? `item ${body.start + first}` : null;
  return typeof first === "string" ? `pushed binding ${JSON.stringify(first)}` : null;
}

/** What went wrong, in a few words, from an error of encoding or of the transport's serializer. */
function reasonOf(e: unknown): string {
  if (e instanceof UnsendableValueError) return e.reason;
  if (isStackOverflow(e)) return "it is nested too deeply";
  const message = messageOf(e);
  // structured clone's own refusals say "... could not be cloned"; anything else came from the value's code
  return /could not be cloned|DataCloneError/.test(message) || (e instanceof Error && e.name === "DataCloneError")
    ? message
    : `a getter threw: ${message}`;
}

/**
 * The parts of a job's message, each with its name, to find the one a serializer refuses (the
 * transport's error does not say which it was).
 */
function parts(body: JobBody, code: JobMessage["code"]): [string, unknown][] {
  const out: [string, unknown][] = [];
  if (body.kind === "call") body.args.forEach((a, i) => out.push([`argument ${i}`, a]));
  else if (body.kind === "map" && Array.isArray(body.items)) body.items.forEach((x, i) => out.push([`item ${body.start + i}`, x]));
  else if (body.kind === "push") for (const [k, v] of Object.entries(body.bindings)) out.push([`pushed binding ${JSON.stringify(k)}`, v]);
  for (const d of code?.bundle?.deps ?? []) if ("value" in d) out.push([`dependency ${JSON.stringify(d.name)}`, d.value]);
  return out;
}

/**
 * The TypeError for a job whose message could not be made or sent. `e` is what encoding threw
 * (an UnsendableValueError, possibly inside a DependencyUnsendable) or what the transport threw;
 * `sent` is the message that failed in the transport (its parts are tried one by one to name the
 * culprit), `sharedMemory` whether the transport clones like postMessage rather than v8.serialize.
 */
export function sendError(workerId: number, body: JobBody, e: unknown, sent?: JobMessage, sharedMemory = false): TypeError {
  let part: string | null = null;
  let inner = "";
  let cause = e;
  if (e instanceof DependencyUnsendable) {
    part = `dependency ${JSON.stringify(e.dep)}`;
    cause = e.error;
    if (cause instanceof UnsendableValueError && !cause.tooDeep) inner = cause.where();
  } else if (e instanceof UnsendableValueError) {
    part = partOf(body, e.path[0]);
    if (!e.tooDeep) inner = e.where(part === null ? 0 : 1);
  } else if (sent) {
    const clone = sharedMemory ? (v: unknown) => structuredClone(v) : (v: unknown) => serialize(v);
    for (const [name, value] of parts(sent.body, sent.code)) {
      try {
        clone(value);
      } catch (err) {
        part = name;
        cause = err;
        break;
      }
    }
  }
  const what = `${part ?? "the task"}${inner ? ` (at ${inner})` : ""}`;
  return new TypeError(`${what} could not be sent to worker ${workerId}: ${reasonOf(cause)}. ${ADVICE}`, { cause });
}
