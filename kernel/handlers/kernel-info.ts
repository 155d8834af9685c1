/** kernel_info_request (shell and control): who this kernel is and what language it speaks. */
import { tspoolVersion, typescriptVersion } from "../package-info.js";
import { PROTOCOL_VERSION } from "../wire/message.js";
import type { Handler } from "./context.js";

export function kernelInfoContent() {
  return {
    status: "ok",
    protocol_version: PROTOCOL_VERSION,
    implementation: "tspool",
    implementation_version: tspoolVersion,
    language_info: {
      name: "typescript",
      version: typescriptVersion,
      mimetype: "text/typescript",
      file_extension: ".ts",
      codemirror_mode: { name: "javascript", typescript: true },
      pygments_lexer: "typescript",
    },
    banner:
      `tspool ${tspoolVersion} — TypeScript ${typescriptVersion} on Node ${process.versions.node}\n` +
      `Cells are type-checked against earlier cells. %pool magics and the \`pool\` global run work on a worker farm.`,
    help_links: [
      { text: "TypeScript Handbook", url: "https://www.typescriptlang.org/docs/handbook/intro.html" },
      { text: "Node.js API", url: `https://nodejs.org/docs/v${process.versions.node}/api/` },
    ],
    debugger: false,
  };
}

export const kernelInfo: Handler = async (ctx) => {
  await ctx.reply("kernel_info_reply", kernelInfoContent());
};
