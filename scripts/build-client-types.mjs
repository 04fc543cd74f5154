/**
 * Writes packages/client/dist/router.d.ts: the router's wire types as a
 * self-contained declaration, so the published @agentex/client needs only
 * @trpc/client and @trpc/server from the registry.
 *
 * The router's own type (`typeof appRouter`) carries the server's context
 * (Kysely<DB>, Buffer, the logger), the REST bridge's meta (trpc-to-openapi)
 * and zod: none of that is part of the wire contract, and none of it may reach
 * a consumer. So the type checker evaluates, for every procedure of the real
 * router, its kind, its input and its output, and this script prints them as
 * plain TypeScript into a router type of the same shape over a neutral root
 * (`ctx: object`, `meta: object`, the real error shape).
 *
 * Then it proves the result: inside one program, the generated router's
 * inferRouterInputs / inferRouterOutputs / inferRouterError must be
 * *identical* to the real router's, and the file must compile alone (strict,
 * skipLibCheck off) with nothing but @trpc/server. Any drift fails the build.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const API = join(ROOT, "packages/api/src");
const CLIENT = join(ROOT, "packages/client");
// Virtual files (never written): they only have to sit where their imports resolve.
const PROBE = join(API, "__wire_probe__.ts");
const GENERATED = join(CLIENT, "src/__wire_generated__.ts");
const CHECK = join(CLIENT, "src/__wire_check__.ts");
const OUT = join(CLIENT, "dist/router.d.ts");

const baseOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  allowImportingTsExtensions: true,
  types: ["node"],
  typeRoots: [join(ROOT, "node_modules/@types")],
};

function program(files, options) {
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const exists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (f) => f in files || exists(f);
  host.readFile = (f) => (f in files ? files[f] : readFile(f));
  host.getSourceFile = (f, lang, onError, create) =>
    f in files ? ts.createSourceFile(f, files[f], lang, true) : getSourceFile(f, lang, onError, create);
  return ts.createProgram(Object.keys(files), options, host);
}

function diagnostics(prog, file) {
  const sf = prog.getSourceFile(file);
  return [...prog.getSyntacticDiagnostics(sf), ...prog.getSemanticDiagnostics(sf)].map((d) => {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
    return `${d.file ? d.file.fileName : ""}${pos ? `:${pos.line + 1}:${pos.character + 1}` : ""} ${msg}`;
  });
}

// 1. Evaluate the real router.
const probeSource = `
import type { AppRouter } from './root.ts';
import type { FieldIssue } from './index.ts';
// In scope here, so the checker prints these by their public names.
import type { TRPC_ERROR_CODE_KEY, TRPC_ERROR_CODE_NUMBER, inferRouterError } from '@trpc/server';
export type __Router = AppRouter;
export type __ErrorShape = inferRouterError<AppRouter>;
export type __FieldIssue = FieldIssue;
`;
const probeProgram = program({ [PROBE]: probeSource }, baseOptions);
const probeErrors = diagnostics(probeProgram, PROBE);
if (probeErrors.length) throw new Error(`the router does not type-check:\n${probeErrors.join("\n")}`);
const checker = probeProgram.getTypeChecker();
const probeFile = probeProgram.getSourceFile(PROBE);
const exportsOf = checker.getExportsOfModule(checker.getSymbolAtLocation(probeFile));
const aliasType = (name) => checker.getDeclaredTypeOfSymbol(exportsOf.find((s) => s.name === name));
const prop = (type, name) => {
  const symbol = type && checker.getPropertyOfType(type, name);
  return symbol ? checker.getTypeOfSymbolAtLocation(symbol, probeFile) : undefined;
};

// tRPC's own types used in the error shape, imported from '@trpc/server' in the generated file.
const trpcNames = new Set();
let usesTrackedData = false;
const FLAGS =
  ts.TypeFormatFlags.NoTruncation |
  ts.TypeFormatFlags.InTypeAlias |
  ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType;
const TRPC_PUBLIC = ["TRPC_ERROR_CODE_KEY", "TRPC_ERROR_CODE_NUMBER"];
const print = (type) => {
  // A subscription yields tRPC's TrackedData ({ id, data }: resumable events), which its bundled
  // declarations name `Tr` internally and only its private entry point exports: the generated
  // file declares the same interface itself (the identity check below proves it the same).
  let text = checker.typeToString(type, probeFile, FLAGS);
  if (/import\("[^"]*@trpc\/server\/dist\/[^"]*"\)\.Tr</.test(text)) {
    text = text.replace(/import\("[^"]*@trpc\/server\/dist\/[^"]*"\)\.Tr</g, "TrackedData<");
    usesTrackedData = true;
  }
  for (const name of TRPC_PUBLIC) if (new RegExp(`\\b${name}\\b`).test(text)) trpcNames.add(name);
  return text;
};
/** An interface of the project's, printed structurally (its name is then declared in the generated file). */
const structure = (type) =>
  `{ ${checker
    .getPropertiesOfType(type)
    .map(
      (p) =>
        `${p.flags & ts.SymbolFlags.Optional ? `${p.name}?` : p.name}: ${print(checker.getTypeOfSymbolAtLocation(p, probeFile))};`,
    )
    .join(" ")} }`;

const KINDS = {
  query: "TRPCQueryProcedure",
  mutation: "TRPCMutationProcedure",
  subscription: "TRPCSubscriptionProcedure",
};
let procedures = 0;
/** Prints a router record: procedures, and nested records (plain objects, as tRPC keeps them). */
function record(type, indent) {
  const lines = [];
  for (const symbol of checker.getPropertiesOfType(type)) {
    const member = checker.getTypeOfSymbolAtLocation(symbol, probeFile);
    const def = prop(member, "_def");
    const key = /^[A-Za-z_$][\w$]*$/.test(symbol.name) ? symbol.name : JSON.stringify(symbol.name);
    if (def && prop(def, "procedure")) {
      const kind = prop(def, "type");
      const kindName = kind && kind.isStringLiteral() ? kind.value : null;
      if (!kindName || !KINDS[kindName]) throw new Error(`${symbol.name}: unknown procedure kind`);
      const types = prop(def, "$types");
      const output = prop(types, "output");
      lines.push(
        `${indent}${key}: ${KINDS[kindName]}<{\n${indent}  input: ${print(prop(types, "input"))};\n${indent}  output: ${print(output)};\n${indent}  meta: object;\n${indent}}>;`,
      );
      procedures++;
    } else if (def && prop(def, "record")) {
      lines.push(
        `${indent}${key}: TRPCBuiltRouter<Root, {\n${record(prop(def, "record"), `${indent}  `)}\n${indent}}>;`,
      );
    } else {
      lines.push(`${indent}${key}: {\n${record(member, `${indent}  `)}\n${indent}};`);
    }
  }
  return lines.join("\n");
}
const body = record(prop(prop(aliasType("__Router"), "_def"), "record"), "  ");
const fieldIssue = structure(aliasType("__FieldIssue"));
const errorShape = print(aliasType("__ErrorShape"));

const generated = `/**
 * The agent registry's tRPC router as its clients see it: every procedure's
 * kind, input and output (snake_case wire names, timestamps as ISO strings).
 * Generated from the server's router by \`pnpm build\` (scripts/build-client-types.mjs),
 * which proves it identical to the real router's inputs, outputs and errors.
 */
import type {
  TRPCBuiltRouter,
  TRPCMutationProcedure,
  TRPCQueryProcedure,
  TRPCSubscriptionProcedure,
  inferRouterInputs,
  inferRouterOutputs,${[...trpcNames]
    .sort()
    .map((n) => `\n  ${n},`)
    .join("")}
} from '@trpc/server';
${
  usesTrackedData
    ? `
/** One event of a subscription: its id (sent back as \`lastEventId\` to resume) and its data. */
export interface TrackedData<TData> {
  id: string;
  data: TData;
}
`
    : ""
}
/** One offending input field, as the server names it (422 responses). */
export interface FieldIssue ${fieldIssue}

/** The error shape of every failed call (the same body the REST bridge returns). */
export type AgentexErrorShape = ${errorShape};

type Root = { ctx: object; meta: object; errorShape: AgentexErrorShape; transformer: false };

export type AppRouter = TRPCBuiltRouter<Root, {
${body}
}>;

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
`;

// 2. Prove it: identical to the real router, and self-contained.
const checkSource = `
import type { inferRouterError, inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter as Real } from '../../api/src/root.ts';
import type { AppRouter as Generated } from './__wire_generated__.ts';
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export const inputs: Equal<inferRouterInputs<Real>, inferRouterInputs<Generated>> = true;
export const outputs: Equal<inferRouterOutputs<Real>, inferRouterOutputs<Generated>> = true;
export const errors: Equal<inferRouterError<Real>, inferRouterError<Generated>> = true;
`;
const checkProgram = program({ [GENERATED]: generated, [CHECK]: checkSource }, baseOptions);
const checkErrors = [...diagnostics(checkProgram, GENERATED), ...diagnostics(checkProgram, CHECK)];
if (checkErrors.length)
  throw new Error(`the generated client types differ from the router:\n${checkErrors.join("\n")}`);

const alone = program(
  { [GENERATED]: generated },
  { ...baseOptions, skipLibCheck: false, types: [], noUncheckedIndexedAccess: true },
);
const aloneErrors = diagnostics(alone, GENERATED);
const leaked = alone
  .getSourceFiles()
  .map((f) => f.fileName)
  .filter(
    (f) =>
      f !== GENERATED &&
      (/\/(kysely|zod|zod-openapi|trpc-to-openapi|@agentex)\//.test(f) || f.includes("/packages/")),
  );
if (aloneErrors.length || leaked.length) {
  throw new Error(
    `the generated client types are not self-contained:\n${[...aloneErrors, ...leaked].join("\n")}`,
  );
}

mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, generated);
console.log(`client types: ${procedures} procedures, checked against the router → ${OUT.slice(ROOT.length)}`);
