/**
 * Makes packages/client/dist standalone: the SDK's own code imports workspace
 * packages (@agentex/wire) that are never published, so each one's compiled
 * output (JavaScript and declarations) is copied into dist/inline/<name>/ and
 * every import of it in dist points there instead. Then nothing under dist may
 * import an @agentex/* package at all; the router's types are already
 * self-contained (build-client-types.mjs). Runs after `tsc -b`.
 *
 * Only packages that import nothing of the workspace can be inlined this way,
 * and only through their root entry: anything else fails the build.
 */
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DIST = join(ROOT, "packages/client/dist");
const INLINE = join(DIST, "inline");
/** The workspace packages the SDK's code may import, by name: where their compiled output is. */
const INLINED = { "@agentex/wire": join(ROOT, "packages/wire/dist") };
// `from "x"`, `import "x"`, `import("x")`: every module specifier in emitted JavaScript or declarations.
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(?\s*)(["'])([^"']+)\2/g;

const files = (dir) =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(js|d\.ts)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));

rmSync(INLINE, { recursive: true, force: true });
for (const [name, from] of Object.entries(INLINED)) {
  if (!existsSync(join(from, "index.js"))) throw new Error(`${name}: no compiled output in ${from}`);
  const to = join(INLINE, name.split("/")[1]);
  cpSync(from, to, { recursive: true, filter: (src) => !/\.(map|tsbuildinfo)$/.test(src) });
  for (const file of files(to)) {
    for (const [, , , spec] of readFileSync(file, "utf8").matchAll(SPECIFIER)) {
      if (!spec.startsWith(".")) throw new Error(`${name} cannot be inlined: ${file} imports '${spec}'`);
    }
  }
}

let rewritten = 0;
for (const file of files(DIST)) {
  if (file.startsWith(INLINE + sep)) continue;
  const text = readFileSync(file, "utf8");
  const fixed = text.replace(SPECIFIER, (match, lead, quote, spec) => {
    if (!spec.startsWith("@agentex/")) return match;
    if (!(spec in INLINED))
      throw new Error(`${relative(ROOT, file)} imports '${spec}', which is not inlined`);
    const target = relative(dirname(file), join(INLINE, spec.split("/")[1], "index.js"))
      .split(sep)
      .join("/");
    return `${lead}${quote}${target.startsWith("../") ? target : `./${target}`}${quote}`;
  });
  if (fixed !== text) {
    writeFileSync(file, fixed);
    rewritten++;
  }
}
console.log(
  `client inline: ${Object.keys(INLINED).join(", ")} into dist/inline (${rewritten} files rewritten)`,
);
