import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openApiDocument } from "./openapi.ts";

const OPENAPI_PATH = fileURLToPath(new URL("../../../openapi.json", import.meta.url));

writeFileSync(OPENAPI_PATH, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log(`wrote ${OPENAPI_PATH}`);
