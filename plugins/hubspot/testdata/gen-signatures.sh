#!/bin/sh
# Recomputes signatures.json with openssl and sha256sum, independently of the
# Go code under test. Run from this directory: sh gen-signatures.sh > signatures.json
set -eu
v1() { printf '%s%s' "$1" "$2" | sha256sum | cut -d' ' -f1; }
v2() { printf '%s%s%s%s' "$1" "$2" "$3" "$4" | sha256sum | cut -d' ' -f1; }
# v3 signs method + URI (HubSpot's decoding already applied by the caller) + body + timestamp.
v3() { printf '%s%s%s%s' "$2" "$3" "$4" "$5" | openssl dgst -sha256 -hmac "$1" -binary | base64; }
json() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }

DOC_SECRET='yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy'
DOC_BODY='[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
SECRET='3c2d9a8e-7f41-4b6a-9c0e-5d1f2a3b4c5d'
URL='https://calls.example.com/call/crm-webhook?type=hubspot&agent_id=sales-intro&x_api_key=k1'
BODY='[{"eventId":567890123,"subscriptionId":234567,"portalId":12345678,"appId":987654,"occurredAt":1708986598741,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":65059681032,"changeFlag":"CREATED","changeSource":"CRM_UI","sourceId":"userId:45678"}]'
TS=1764244800000
ESC_URL='https://calls.example.com/call/crm-webhook?type=hubspot&agent_id=sales-intro&since=2026-11-27T10%3A00%3A00Z&note=a%20b%26c&who=%40ops'
ESC_DECODED='https://calls.example.com/call/crm-webhook?type=hubspot&agent_id=sales-intro&since=2026-11-27T10:00:00Z&note=a%20b%26c&who=@ops'

# Find a timestamp whose v3 signature contains '+', to prove it is not URL-decoded.
PLUS_TS=$TS
while :; do
  s=$(v3 "$SECRET" POST "$URL" "$BODY" "$PLUS_TS")
  case "$s" in *+*) break ;; esac
  PLUS_TS=$((PLUS_TS + 1))
done

row() { # name version secret method url body timestamp signature
  printf '  {"name":"%s","version":"%s","secret":"%s","method":"%s","url":"%s","body":"%s","timestamp":"%s","signature":"%s"}' \
    "$1" "$2" "$3" "$4" "$(json "$5")" "$(json "$6")" "$7" "$8"
}
echo '['
row "hubspot docs v1 example" v1 "$DOC_SECRET" POST "" "$DOC_BODY" "" "$(v1 "$DOC_SECRET" "$DOC_BODY")"; echo ,
row "hubspot docs v2 example" v2 "$DOC_SECRET" POST "https://www.example.com/webhook_uri" '{"example_field":"example_value"}' "" "$(v2 "$DOC_SECRET" POST https://www.example.com/webhook_uri '{"example_field":"example_value"}')"; echo ,
row "hubspot docs v2 example, empty body" v2 "$DOC_SECRET" POST "https://www.example.com/webhook_uri" "" "" "$(v2 "$DOC_SECRET" POST https://www.example.com/webhook_uri '')"; echo ,
row "v1 captured contact.creation" v1 "$SECRET" POST "$URL" "$BODY" "" "$(v1 "$SECRET" "$BODY")"; echo ,
row "v2 captured contact.creation" v2 "$SECRET" POST "$URL" "$BODY" "" "$(v2 "$SECRET" POST "$URL" "$BODY")"; echo ,
row "v3 captured contact.creation" v3 "$SECRET" POST "$URL" "$BODY" "$TS" "$(v3 "$SECRET" POST "$URL" "$BODY" "$TS")"; echo ,
row "v3 escaped colon and at-sign in the query" v3 "$SECRET" POST "$ESC_URL" "$BODY" "$TS" "$(v3 "$SECRET" POST "$ESC_DECODED" "$BODY" "$TS")"; echo ,
row "v3 signature with a plus sign" v3 "$SECRET" POST "$URL" "$BODY" "$PLUS_TS" "$(v3 "$SECRET" POST "$URL" "$BODY" "$PLUS_TS")"; echo ,
row "v3 empty body" v3 "$SECRET" POST "$URL" "" "$TS" "$(v3 "$SECRET" POST "$URL" "" "$TS")"; echo
echo ']'
