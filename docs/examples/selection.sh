#!/usr/bin/env bash
# An official's whole path through a larger selection, with curl and jq: the preview,
# the order, following it until its file is written, the download (resumed where a
# broken one stopped) and the check of its checksum. See docs/selections.md.
#
#   VASTFOLKET_TOKEN   a token with the selection role and an organisation, e.g.
#                      vastfolket token --tier BASIC --sub your.name --org 1480 --role selection
#   VASTFOLKET_URL     the API (default http://localhost:8000)
#   CRITERIA           whom to select, as SelectionCriteria (default: 75-year-olds in Göteborg)
set -euo pipefail
URL=${VASTFOLKET_URL:-http://localhost:8000}
AUTH="Authorization: Bearer ${VASTFOLKET_TOKEN:?set VASTFOLKET_TOKEN}"
CRITERIA=${CRITERIA:-'{"municipalities": ["1480"], "ageFrom": 75, "ageTo": 75}'}

graphql() {  # a query and its variables (JSON): the answer's data, or its errors and exit
  local answer
  answer=$(jq -n --arg query "$1" --argjson variables "$2" '{$query, $variables}' |
    curl -sS "$URL/graphql" -H "$AUTH" -H 'Content-Type: application/json' --data-binary @-)
  if jq -e 'has("errors")' <<<"$answer" >/dev/null; then
    echo "$answer" >&2
    exit 1
  fi
  jq -c '.data' <<<"$answer"
}

# 1. The preview: how many the criteria select now, and the price.
graphql 'query Preview($criteria: SelectionCriteria!) {
  selectionPreview(criteria: $criteria) { count price { total } }
}' "{\"criteria\": $CRITERIA}"

# 2. The order: answered at once, queued; a worker writes the file.
order_id=$(graphql 'mutation Order($criteria: SelectionCriteria!) {
  orderSelection(criteria: $criteria, purpose: "Inbjudan till hälsosamtal",
    caseReference: "ÄR-2026/11", format: CSV,
    fields: [PERSONNUMMER, FIRST_NAMES, LAST_NAME, CARE_OF, ADDRESS_LINE2, POSTAL_CODE, POSTAL_TOWN]
  ) { id status }
}' "{\"criteria\": $CRITERIA}" | jq -r '.orderSelection.id')
echo "order $order_id"

# 3. Follow it until done (or failed: its error says why; retrySelectionOrder runs it again).
while :; do
  order=$(graphql 'query Follow($id: ID!) {
    selectionOrder(id: $id) { status progress rowCount price fileSize checksum downloadUrl error }
  }' "{\"id\": \"$order_id\"}" | jq -c '.selectionOrder')
  echo "$order"
  case $(jq -r .status <<<"$order") in
    QUEUED | RUNNING) sleep 1 ;;
    DONE) break ;;
    *) exit 1 ;;
  esac
done

# 4. The download, with the same token; -C - resumes a broken one where it stopped. Then
#    the file is checked against the order's checksum.
file="urval-$order_id.csv"
curl -sS --fail -C - -H "$AUTH" -o "$file" "$URL$(jq -r .downloadUrl <<<"$order")"
echo "$(jq -r .checksum <<<"$order")  $file" | sha256sum --check
