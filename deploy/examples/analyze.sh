#!/bin/sh
# Call the FashionEdit analyzer with curl: readiness, service info, then one analysis.
#   FASHIONEDIT_ANALYZER_URL=http://127.0.0.1:3003 sh deploy/examples/analyze.sh original.png design.png
set -eu
URL=${FASHIONEDIT_ANALYZER_URL:-http://127.0.0.1:3003}
AUTH="Authorization: Bearer ${FASHIONEDIT_API_TOKEN:-}" # ignored by services without a token

curl -fsS "$URL/readyz" >/dev/null && echo "ready"
curl -sS -X POST "$URL/v1/info" -H "Content-Type: application/json" -H "$AUTH" -d '{}'
echo
# The JSON body is the AnalyzeRequest itself: images as base64 strings.
printf '{"original": "%s", "generated": "%s", "k": 3, "include_crops": false}' \
  "$(base64 < "$1" | tr -d '\n')" "$(base64 < "$2" | tr -d '\n')" |
  curl -sS -X POST "$URL/v1/analyze" -H "Content-Type: application/json" -H "$AUTH" --data-binary @-
echo
