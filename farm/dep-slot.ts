/**
 * The global a dependency defines, or `script:<key>` for a script: what a worker tracks as
 * installed. Its own module so that workers, which need only this of task-code.ts, do not load
 * the parent's snapshot and digest code at start-up.
 */
import type { Dep, SnapshotDep } from "./task-code.js";

export function depSlot(dep: Dep | SnapshotDep, key: string): string {
  return "script" in dep ? `script:${key}` : dep.name;
}
