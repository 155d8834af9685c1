/** Which handler answers which request type. */
import { commIgnored, commInfo, commOpen } from "./comm.js";
import { complete } from "./complete.js";
import type { Handler } from "./context.js";
import { execute } from "./execute.js";
import { history } from "./history.js";
import { inspect } from "./inspect.js";
import { interrupt } from "./interrupt.js";
import { isComplete } from "./is-complete.js";
import { kernelInfo } from "./kernel-info.js";
import { shutdown } from "./shutdown.js";

export const shellHandlers: Record<string, Handler> = {
  kernel_info_request: kernelInfo,
  execute_request: execute,
  complete_request: complete,
  inspect_request: inspect,
  is_complete_request: isComplete,
  history_request: history,
  comm_info_request: commInfo,
  comm_open: commOpen,
  comm_msg: commIgnored,
  comm_close: commIgnored,
  shutdown_request: shutdown,
};

export const controlHandlers: Record<string, Handler> = {
  kernel_info_request: kernelInfo,
  interrupt_request: interrupt,
  shutdown_request: shutdown,
};
