/**
 * Stops the JavaScript running in one of this process's worker threads, without ending the
 * thread, through the inspector's NodeWorker domain (Runtime.terminateExecution sent into the
 * thread's own inspector session). The session is opened for the occasion and closed after.
 */
import { Session } from "node:inspector";

let busy: Promise<void> = Promise.resolve();

function post(session: Session, method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

export function terminateThreadExecution(threadId: number): Promise<void> {
  const run = async () => {
    const session = new Session();
    session.connect();
    let sessionId: string | null = null;
    const attached: string[] = [];
    session.on("NodeWorker.attachedToWorker", (e: { params: { sessionId: string; workerInfo: { workerId: string; title: string } } }) => {
      attached.push(e.params.sessionId);
      // the inspector numbers workers its own way; the title says "[worker <threadId>]"
      const m = /\[worker (\d+)\]/.exec(e.params.workerInfo.title);
      if (m && Number(m[1]) === threadId) sessionId = e.params.sessionId;
    });
    try {
      await post(session, "NodeWorker.enable", { waitForDebuggerOnStart: false });
      if (sessionId === null) return;
      const done = new Promise<void>((resolve) => {
        session.on("NodeWorker.receivedMessageFromWorker", (e: { params: { sessionId: string; message: string } }) => {
          if (e.params.sessionId === sessionId && e.params.message.includes('"id":1')) resolve();
        });
        setTimeout(resolve, 1000);
      });
      await post(session, "NodeWorker.sendMessageToWorker", {
        sessionId,
        message: JSON.stringify({ id: 1, method: "Runtime.terminateExecution" }),
      });
      await done;
    } finally {
      // every thread enable() attached to must be detached, or it cannot be attached again next time
      for (const id of attached) await post(session, "NodeWorker.detach", { sessionId: id }).catch(() => {});
      await post(session, "NodeWorker.disable").catch(() => {});
      session.disconnect();
    }
  };
  busy = busy.then(run, run).catch(() => {});
  return busy;
}
