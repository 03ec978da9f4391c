# The two commands the README opens with, plus a few conveniences.
.PHONY: demo test bench clean down

demo: ## install what is needed, bring up the local ambient cluster and run the demo
	./scripts/demo.sh

test: ## install what is needed and run every test (unit, integration, local e2e)
	./scripts/test.sh

bench: ## benchmarks against the peers (slow; not part of `make test`)
	./scripts/bootstrap.sh && MESH_BENCH_DEPS=1 ./scripts/bootstrap.sh && npm run bench

down: ## remove the local cluster (namespaces, rules, processes, files)
	node packages/meshctl/dist/meshctl.mjs local down

clean:
	rm -rf node_modules packages/*/dist packages/*/build .nx
