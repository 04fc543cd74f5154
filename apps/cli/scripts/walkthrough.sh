#!/usr/bin/env bash
# Runs the CLI walk of docs/cli-walkthrough.md against a fresh server and
# prints the markdown transcript:
#   AGENTEX_URL=http://127.0.0.1:8124 AGENTEX_TOKEN=<admin token> apps/cli/scripts/walkthrough.sh
cd "$(dirname "$0")/../../.."
agentex() { node apps/cli/bin/agentex.mjs "$@"; }
step() { printf '\n%s\n\n' "$1"; }
run() {
  # $1: shown command line; rest: the command
  local shown="$1"; shift
  printf '```console\n$ %s\n' "$shown"
  local out rc
  out=$("$@" 2>&1); rc=$?
  printf '%s\n' "$out"
  [ $rc -ne 0 ] && printf '$ echo $?\n%s\n' "$rc"
  printf '```\n'
  return 0
}
export AGENTEX_URL="${AGENTEX_URL:-http://127.0.0.1:8124}"
export AGENTEX_TOKEN="${AGENTEX_TOKEN:?set AGENTEX_TOKEN to an admin token}"

step '### 0. Who am I (the bootstrap admin)'
run 'agentex me' agentex me

step '### 1. The admin creates a developer (alice) and a CI deployer (service account)'
ALICE_JSON=$(agentex principals create --name alice --can-create-agents --json)
ALICE=$(node -pe 'JSON.parse(process.argv[1]).token' "$ALICE_JSON")
printf '```console\n$ agentex principals create --name alice --can-create-agents --json\n%s\n```\n' "$ALICE_JSON"
CI_OUT=$(agentex principals create --name ci-deployer --kind service_account)
printf '```console\n$ agentex principals create --name ci-deployer --kind service_account\n%s\n```\n' "$CI_OUT"
CI_ID=$(printf '%s\n' "$CI_OUT" | sed -n 's/^id: *//p'); CI=$(printf '%s\n' "$CI_OUT" | sed -n 's/^token: *//p')
printf '\nEach token is shown once. Below, `$ALICE_TOKEN` and `$CI_TOKEN` stand for them.\n'

export AGENTEX_TOKEN=$ALICE
step '### 2. Build time: alice registers the agent (stable id, status BuildOnly)'
printf '```console\n$ export AGENTEX_TOKEN=$ALICE_TOKEN\n```\n'
run 'agentex register-build --name support-bot --description "Answers support tickets"' agentex register-build --name support-bot --description "Answers support tickets"

step '### 3. alice shares it with the CI deployer before anything runs'
run "agentex grants set support-bot $CI_ID --role deployer" agentex grants set support-bot "$CI_ID" --role deployer
run 'agentex grants list support-bot' agentex grants list support-bot

export AGENTEX_TOKEN=$CI
step '### 4. CI creates a deployment (Pending)'
printf '```console\n$ export AGENTEX_TOKEN=$CI_TOKEN\n```\n'
DEP=$(agentex deployments create support-bot --image registry.example.com/support-bot:1.4.2 --json)
DEP_ID=$(node -pe 'JSON.parse(process.argv[1]).id' "$DEP")
printf '```console\n$ agentex deployments create support-bot --image registry.example.com/support-bot:1.4.2 --json\n%s\n```\n' "$DEP"

step '### 5. Promoting it before it registered is refused (exit 3)'
run "agentex deployments promote support-bot $DEP_ID" agentex deployments promote support-bot "$DEP_ID"

step '### 6. The running deployment registers its URL (deployment-scoped: the agent row is untouched)'
run "agentex register --name support-bot --description \"Answers support tickets\" --acp-url http://support-bot-142.internal:8000 --acp-type async --deployment-id $DEP_ID" \
  agentex register --name support-bot --description "Answers support tickets" --acp-url http://support-bot-142.internal:8000 --acp-type async --deployment-id "$DEP_ID"
run 'agentex deployments list support-bot' agentex deployments list support-bot

step '### 7. Cut over: promote the Ready deployment'
run "agentex deployments promote support-bot $DEP_ID" agentex deployments promote support-bot "$DEP_ID"

step '### 8. The agent is Ready, pointing at its production deployment'
run 'agentex agents get support-bot' agentex agents get support-bot
run 'agentex agents list' agentex agents list

step '### 9. Exit codes in scripts'
run 'agentex agents get no-such-agent' agentex agents get no-such-agent
run "agentex agents delete support-bot --json   # the deployer may not delete" agentex agents delete support-bot --json
run "agentex deployments delete support-bot $DEP_ID   # the production deployment cannot be deleted" agentex deployments delete support-bot "$DEP_ID"
