// Render many Mermaid diagrams in ONE browser session.
//
// usage:  node render-mermaid.mjs NODE_MODULES [--stream]
//         NODE_MODULES: the folder holding @mermaid-js/mermaid-cli (conf.py's
//         handbook_node_modules, e.g. tools/node_modules). This script ships inside the
//         Python package, far from any node_modules folder, and an ES module resolves its
//         imports from its own folder (NODE_PATH is not read), so the packages are loaded
//         from that folder explicitly.
// stdin:  JSON list of jobs {code, format: "svg"|"pdf", theme, config, viewport, svgId, out}
//         (config: extra Mermaid configuration, e.g. themeVariables, merged over theme;
//         viewport: the browser window, {width, height} in px, or null for the default)
// stdout: JSON list of results {out, ok, error}, one per job, in order.
// --stream: the browser starts at once, before any job is read; stdin is one JSON job a
//         line, each rendered as soon as it arrives, and stdout one JSON result a line, in
//         the order of the jobs (the build feeds it diagrams while Sphinx is still
//         reading pages, and waits for the results only when reading is done).
// Exit 0 when every job was tried (failures are reported per job), 2 on bad input or
// when the browser cannot start.
//
// The stock sphinxcontrib-mermaid runs one `mmdc` (one browser launch) per diagram;
// this script launches the system Chromium once for the whole build.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";
import { pathToFileURL } from "node:url";

const modules = process.argv[2];
let puppeteer, renderMermaid;
try {
  if (!modules) throw new Error("usage: node render-mermaid.mjs NODE_MODULES");
  // mermaid-cli from the given folder; puppeteer (its peer dependency) and
  // import-meta-resolve (its dependency) as mermaid-cli itself resolves them, so the
  // browser it drives is the one this script launches, and puppeteer loads once
  const cli = createRequire(path.join(path.resolve(modules), "noop.js"))
    .resolve("@mermaid-js/mermaid-cli");
  const { resolve } = await import(
    pathToFileURL(createRequire(cli).resolve("import-meta-resolve")).href);
  const cliUrl = pathToFileURL(cli).href;
  ({ renderMermaid } = await import(cliUrl));
  ({ default: puppeteer } = await import(resolve("puppeteer", cliUrl)));
} catch (err) {
  console.error(`render-mermaid: cannot load mermaid-cli from ${modules}: ${err.message}`);
  process.exit(2);
}

const stream = process.argv[3] === "--stream";

async function launch() {
  const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
  try {
    return await puppeteer.launch({
      executablePath,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    });
  } catch (err) {
    console.error(`render-mermaid: cannot start ${executablePath}: ${err.message}`);
    process.exit(2);
  }
}

async function render(browser, job) {
  try {
    const { data } = await renderMermaid(browser, job.code, job.format, {
      backgroundColor: "transparent",
      mermaidConfig: { theme: job.theme || "default", ...(job.config || {}) },
      pdfFit: job.format === "pdf",
      ...(job.viewport ? { viewport: job.viewport } : {}),
      svgId: job.svgId,
    });
    fs.mkdirSync(path.dirname(job.out), { recursive: true });
    fs.writeFileSync(job.out, data);
    return { out: job.out, ok: true, error: null };
  } catch (err) {
    const message = String(err && err.message ? err.message : err)
      .split("\n")
      .filter((l) => !l.startsWith("    at "))
      .join("\n")
      .trim();
    return { out: job.out, ok: false, error: message };
  }
}

if (stream) {
  // the browser starts while the first jobs are still being written
  const browser = await launch();
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (!line.trim()) continue;
      let job;
      try {
        job = JSON.parse(line);
      } catch (err) {
        console.error(`render-mermaid: a job is not JSON: ${err.message}`);
        process.exitCode = 2;
        break;
      }
      process.stdout.write(JSON.stringify(await render(browser, job)) + "\n");
    }
  } finally {
    await browser.close();
  }
} else {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  let jobs;
  try {
    jobs = JSON.parse(Buffer.concat(chunks).toString("utf-8"));
  } catch (err) {
    console.error(`render-mermaid: input is not JSON: ${err.message}`);
    process.exit(2);
  }
  const browser = await launch();
  const results = [];
  try {
    for (const job of jobs) results.push(await render(browser, job));
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(results));
}
