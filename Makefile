# StreamForge. `make demo` runs the main job, `make test` runs every test; both do all
# set-up first (scripts/setup.sh, idempotent). Run `make help` for the rest.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The project's Node (installed by setup when the machine's is too old) comes first.
export PATH := $(CURDIR)/.tools/node/bin:$(PATH)
export ONNXRUNTIME_NODE_INSTALL := skip

.PHONY: help setup test typecheck lint demo up down clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: ## Install everything the project needs (Node 24 if needed, npm packages, Kafka jars)
	@scripts/setup.sh

typecheck: setup ## Type-check all TypeScript (tsc, no emit): the Node code, then the console's browser code (DOM types)
	npx tsc -p tsconfig.json
	npx tsc -p functions/queue-manager/src/console/client/tsconfig.json

lint: setup ## Lint and check formatting (Biome, biome.json); `npx biome check --write .` fixes what it can
	npx biome ci .

test: setup typecheck lint ## Set up, type-check, lint, and run every test on one real Kafka broker
	node test/run.ts

demo: setup ## Set up, start the stack with the exchange simulator, backfill a week of BTCUSDT 1m candles, show what was stored
	node scripts/demo.ts

up: setup ## Start the local stack in the background (broker, functions, dispatcher)
	npx streamforge up

down: ## Stop the local stack
	npx streamforge down

.PHONY: bundles console topics error-docs manifests deploy

bundles: setup console ## Bundle every function and the loader-ws Job into functions/<name>/build/, the folder its image is built from
	node scripts/bundle-functions.ts

console: setup ## Rebuild the console's browser script (functions/queue-manager/src/console/app.js, which set-up also builds) from client/*.ts
	node scripts/build-console.ts

topics: setup ## Regenerate knative/topics.yaml (Strimzi KafkaTopics) from the topic plan
	node scripts/generate-topics.ts

error-docs: setup ## Regenerate docs/errors.md from the error table (packages/core/src/errors.ts)
	node scripts/generate-error-docs.ts

manifests: bundles ## Render and check everything make deploy applies, without a cluster (schemas, rules, cross-checks)
	@mkdir -p build
	node scripts/check-manifests.ts > build/manifests-report.json
	@echo "manifests OK: report in build/manifests-report.json, rendered Services and ScaledObjects in build/manifests/"

deploy: manifests ## Deploy to the current kubectl context (REGISTRY=…): loader-ws image (pack), KafkaTopics, config, RBAC, sinks, func deploy each function, the Job events' ApiServerSource, KafkaSources
	scripts/deploy.sh

clean: ## Remove local state, caches and installed packages
	rm -rf .streamforge .cache node_modules .tools
