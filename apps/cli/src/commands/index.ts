/** Every command of the CLI, as data: its name, help, options and what it calls. */
import type { Command } from "../command.ts";
import { agentsDelete, agentsGet, agentsList, register, registerBuild } from "./agents.ts";
import {
  deploymentsCreate,
  deploymentsDelete,
  deploymentsGet,
  deploymentsHistory,
  deploymentsList,
} from "./deployments.ts";
import { grantsList, grantsRevoke, grantsSet } from "./grants.ts";
import { keysCreate, keysList, keysRevoke } from "./keys.ts";
import { me, principalsCreate, principalsList } from "./principals.ts";
import { deploymentsPromote, promotions, rollback } from "./promotions.ts";
import { watchCommand } from "./watch.ts";

/** In the order `agentex --help` and each group's help list them. */
export const COMMANDS: Command[] = [
  registerBuild,
  register,
  agentsList,
  agentsGet,
  agentsDelete,
  deploymentsCreate,
  deploymentsList,
  deploymentsGet,
  deploymentsPromote,
  promotions,
  rollback,
  deploymentsDelete,
  deploymentsHistory,
  keysList,
  keysCreate,
  keysRevoke,
  grantsList,
  grantsSet,
  grantsRevoke,
  me,
  principalsCreate,
  principalsList,
  watchCommand,
];
