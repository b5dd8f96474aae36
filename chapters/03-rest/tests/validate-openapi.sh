#!/bin/sh
# validate-openapi.sh -- checks chapters/03-rest/openapi.json with standard
# OpenAPI 3.1 validators, those that are installed. Optional: make check
# and make test do not need it (they never reach the network); the
# contract tests (8_contract.c) read the same file and check what they use.
#
#   sh chapters/03-rest/tests/validate-openapi.sh [FILE]
#
# Validators it knows, each run when found (none is downloaded):
#   validate-api      npm i -g @seriousme/openapi-schema-validator
#                     (the official OpenAPI 3.1 JSON Schema, with its dialect)
#   redocly           npm i -g @redocly/cli   (redocly lint: the spec's rules
#                     and recommended style)
#   openapi-spec-validator   pip install openapi-spec-validator
# Exits 0 when every validator found accepts the file, 1 when one refuses
# it, 2 when none is installed.
spec=${1:-$(dirname "$0")/../openapi.json}
[ -f "$spec" ] || { echo "no such file: $spec" >&2; exit 2; }
ran=0 failed=0

if command -v validate-api >/dev/null 2>&1; then
    ran=1
    echo "== validate-api (@seriousme/openapi-schema-validator)"
    validate-api "$spec" || failed=1
fi
if command -v redocly >/dev/null 2>&1; then
    ran=1
    echo "== redocly lint ($(redocly --version 2>/dev/null | head -n 1))"
    # The API has no license to name: that one warning is expected.
    redocly lint "$spec" || failed=1
fi
if command -v openapi-spec-validator >/dev/null 2>&1; then
    ran=1
    echo "== openapi-spec-validator"
    openapi-spec-validator "$spec" || failed=1
fi

if [ "$ran" = 0 ]; then
    cat >&2 <<'EOF'
No OpenAPI validator is installed. Any one of these checks openapi.json:
  npm install -g @seriousme/openapi-schema-validator   # then: validate-api FILE
  npm install -g @redocly/cli                          # then: redocly lint FILE
  pip install openapi-spec-validator                   # then: openapi-spec-validator FILE
EOF
    exit 2
fi
exit "$failed"
