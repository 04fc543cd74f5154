/**
 * The whole bad-input corpus, in a fixed order (test names are numbered by
 * position when they repeat). Each module lists one kind of bad input.
 */
import { bodyCases } from "./bodies.cases.ts";
import type { Case, Fixture } from "./case.ts";
import { paramCases } from "./params.cases.ts";
import { requestCases } from "./requests.cases.ts";
import { sqlCases } from "./sql.cases.ts";
import { stringCases } from "./strings.cases.ts";

export type { Case, Fixture } from "./case.ts";
export { SQL_FRAGMENTS } from "./case.ts";

export function buildCorpus(fx: Fixture): Case[] {
  return [...bodyCases(fx), ...stringCases(fx), ...paramCases(fx), ...sqlCases(fx), ...requestCases(fx)];
}
