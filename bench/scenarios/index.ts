import { backlogScenario } from './backlog.js';
import { drainScenario } from './drain.js';
import { restartScenario } from './restart.js';
import { asyncScenario, singleScenario, syncScenario } from './send.js';
import { topicsScenario } from './topics.js';
import type { Scenario } from './types.js';

export type { Scenario, ScenarioOptions, OptionKey } from './types.js';

/** Every scenario, in the order --all runs them (quickest first, the long fill last). */
export const SCENARIOS: readonly Scenario[] = [
  asyncScenario, syncScenario, singleScenario, drainScenario, topicsScenario, restartScenario, backlogScenario,
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
