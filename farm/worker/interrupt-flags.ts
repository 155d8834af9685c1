/** Slots of the Int32Array shared between a process worker's main thread and its interrupt helper. */
export const REQUESTED = 0; // interrupt bytes read from the pipe by the helper
export const ACKNOWLEDGED = 1; // interrupt messages handled by the main thread
export const TERMINATED = 2; // times the helper terminated the main thread's running code
export const FLAG_SLOTS = 3;
/** How long the main thread has to take an interrupt message before its running code is terminated. */
export const ACK_GRACE_MS = 200;
