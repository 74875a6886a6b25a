# stratacache tasks. `just --list` shows them (`npx just …` works without a system install); every recipe is a thin
# wrapper over package.json / .ci.

# Run the cache-reads recipe (DATABASE_URL / REDIS_URL, else local servers when they answer, else PGlite and the in-process L2)
run:
    npm start

# Unit, property and integration tests (integration suites find Postgres/Redis or say loudly why they skip)
test:
    npm test

# Benchmarks; arguments pass through: `just bench` lists them, e.g. `just bench l1-policies --quick`
bench *args:
    npm run bench -- {{args}}

lint:
    npm run lint

# What CI runs: provision services, install, lint, typecheck, test, "N passed, N failed"
ci:
    .ci/run

# Run every recipe under examples/recipes (each has its own justfile with `run`)
recipes:
    #!/usr/bin/env bash
    set -euo pipefail
    ran=0
    skipped=0
    for dir in examples/recipes/*/; do
      [ -f "$dir/justfile" ] || continue  # shared helpers, not a recipe
      echo "==> ${dir%/}"
      # Exit code 2: the recipe needs a server this machine cannot provide (it says which); count it as skipped.
      status=0
      (cd "$dir" && "{{just_executable()}}" run) || status=$?
      if [ "$status" -eq 2 ]; then skipped=$((skipped + 1)); continue; fi
      [ "$status" -eq 0 ] || exit "$status"
      ran=$((ran + 1))
    done
    echo "ran $ran recipe(s), skipped $skipped"
