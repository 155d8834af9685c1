/** `input()` calls waiting for the frontend's input_reply, by the id of their input_request. */
export interface PendingInput {
  resolve(value: string): void;
  reject(err: Error): void;
}

export const pendingInputs = new Map<string, PendingInput>();

/** An interrupt abandons every pending input. */
export function rejectPendingInputs(): void {
  for (const [id, p] of pendingInputs) {
    pendingInputs.delete(id);
    p.reject(new Error("Interrupted while waiting for input"));
  }
}
