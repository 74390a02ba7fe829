// Cut stylesheets to the rules a built site uses (PurgeCSS), for handbook_tools.purge.
// Usage: node purge-css.mjs NODE_MODULES (the folder that holds purgecss: the setting
// handbook_node_modules). Reads one JSON job on stdin: {css: [path...], content:
// [path...], safelist: {...}}; writes {path: cut css} on stdout. Reads files only;
// nothing leaves the machine.
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.argv[2];
let PurgeCSS;
try {
  if (!modules) throw new Error("usage: node purge-css.mjs NODE_MODULES");
  const found = createRequire(path.join(path.resolve(modules), "noop.js")).resolve("purgecss");
  ({ PurgeCSS } = await import(pathToFileURL(found).href));
} catch (err) {
  console.error(`purge-css: cannot load purgecss from ${modules}: ${err.message}`);
  process.exit(2);
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const job = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const safelist = {
  standard: (job.safelist.standard || []),
  deep: (job.safelist.deep || []).map((s) => new RegExp(s)),
  greedy: (job.safelist.greedy || []).map((s) => new RegExp(s)),
};
const results = await new PurgeCSS().purge({
  content: job.content,
  css: job.css,
  safelist,
  // keep @font-face, @keyframes and custom properties: the theme's rules reach them
  // through variables and animation names PurgeCSS does not follow
  fontFace: false,
  keyframes: false,
  variables: false,
  rejected: false,
});
const out = {};
for (const r of results) out[r.file] = r.css;
process.stdout.write(JSON.stringify(out));
