// The long help texts of the deployment commands (`sentinel model deploy --help` and the others).
import { describeRules } from '../../deployments/domain/rules-policy.js';

/** One line per rule: key, default, meaning (wrapped under the key). */
function rulesHelp(): string {
  return describeRules()
    .map((r) => `  ${`${r.key}=${r.default}`.padEnd(26)} ${r.description}`)
    .join('\n');
}

const WATCH_HELP = `
Watching: the view is redrawn in place on a terminal; when stdout is not a terminal, one line is
appended per change (progress, a new event, or a new health verdict). It stops when the deployment
ends: exit 0 if it succeeded, 1 if it failed, was rolled back or superseded (with its reason on
stderr). With --json, nothing is printed until the end, then the final deployment as JSON (with its
health). Ctrl-C stops watching only.`;

export const STATUS_HELP = `
Health: the rules' latest evaluation (GET /api/v1/deployments/:id/health): the verdict (healthy,
degraded, inconclusive; "not evaluated yet" before the first one), the new version against the
baseline versions, one row per check (new vs baseline, change, limit, status) and the reasons; with
--json the "health" field. A hub without the endpoint, or a failed health request, shows
"health: unavailable (<reason>)" (--json: "health": null and "health_unavailable") and is no error.
${WATCH_HELP}`;

export const DEPLOY_HELP = `
Strategies:
  blue-green  every device loads the model into its standby slot ("staged"), then all swap at once
              (cutover) when the online devices have staged, or at --staging-timeout if at least
              --min-staged-share of them did
  canary      a growing cohort of devices (--steps, percentages) runs the model; each step lasts
              --step-interval seconds while the others stay on the previous model as a baseline

Prints "deployment <id> <status>" (with --json the created deployment). One deployment may be active
per group: another one is refused (HTTP 409) unless --supersede.

Health and rollback: the hub's rules judge the new version against a baseline (the devices outside a
canary's cohort in the same window, or the same devices before the step; blue/green: before the
deployment, since staging loads them). Once every device
runs it (blue/green after the cutover, a canary at 100 %) the deployment stays in progress, phase
observing, for --observe seconds: degraded rolls it back (with --no-auto-rollback: pauses it),
healthy succeeds, inconclusive succeeds with a warning (or pauses: --observe-inconclusive pause).
Warnings from the hub (a step that leaves no device outside its cohort, a group smaller than the
rules need) are printed on stderr.

Health rules (--rules '{"key": value}'; a degradation must pass its limit, its floor, and Welch's
one-sided t-test at alpha):
${rulesHelp()}

Example:
  sentinel model deploy 3f0c... --environment production --deployment-type canary \\
    --target yard-cams --steps 5,25,100 --step-interval 600 --wait
${WATCH_HELP}`;

export const ACTION_HELP = `
Prints "deployment <id> <status>" (with --json the deployment). A deployment is rolled back once;
an action its status does not allow is refused (HTTP 409, exit 1).`;

export const HEALTH_HELP = `
The latest evaluation: verdict, where the deployment was (rolling out, observing), the new version
and the baseline (which devices, which window), one row per check with its whole condition (limit
and floor, p-value against alpha, samples on each side) and the reasons. For a finished deployment,
the evaluation that decided it. --history: every evaluation, newest first. --json: as the hub answers.`;
