#!/usr/bin/env bash
# `ttyaudit serve` refuses to listen beyond loopback without a token; with one, every request
# without it, or with a wrong one, gets 401, and the right one (Bearer header, or the cookie a
# ?token= login sets) gets through. HTTPS with --cert/--key. Nothing but GET is served.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/s3rver.sh"
export TTYAUDIT_CONFIG="$T/config.json"
cat >"$TTYAUDIT_CONFIG" <<JSON
{"spool_dir": "$T/spool", "archive_dir": "$T/archive", "log_file": "$T/ttyaudit.log"}
JSON
TA="$BIN/ttyaudit"
"$TA" rec -q -- sh -c 'echo token-test-session' </dev/null >/dev/null

# serve_bg NAME ARGS...: starts serve in the background, waits for its URL in $url.
serve_bg() {
  local name=$1
  shift
  "$TA" serve "$@" 2>"$T/$name.log" &
  track_pid $!
  wait_for 20 grep -q "listening on" "$T/$name.log"
  url=$(sed -n 's/.*listening on \(http[^ ]*\)\/$/\1/p' "$T/$name.log")
}
code() { curl -sS -o /dev/null -w '%{http_code}' "$@"; }

# Beyond loopback without a token: refused, nothing listens.
rc=0
timeout 10 "$TA" serve --listen 0.0.0.0:0 2>"$T/refused.log" || rc=$?
assert_eq "$rc" 2 "serve --listen 0.0.0.0:0 without --token-file exits 2"
assert_contains "$(cat "$T/refused.log")" "--token-file" "the refusal names --token-file"
if grep -q "listening on" "$T/refused.log"; then fail "it listened anyway"; fi
printf 'short\n' >"$T/short.token"
rc=0
timeout 10 "$TA" serve --listen 0.0.0.0:0 --token-file "$T/short.token" 2>/dev/null || rc=$?
assert_eq "$rc" 2 "a token of 5 characters is refused"
ok "a non-loopback listen without a (good) token is refused"

# With a token, on every address.
token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$token" >"$T/token"
serve_bg tok --listen 0.0.0.0:0 --token-file "$T/token"
url=${url/0.0.0.0/127.0.0.1}
assert_eq "$(code "$url/api/sessions")" 401 "no token"
assert_eq "$(code "$url/")" 401 "no token, page"
assert_eq "$(code -H "Authorization: Bearer wrong-$token" "$url/api/sessions")" 401 "wrong bearer"
assert_eq "$(code -H "Authorization: Bearer ${token:0:-1}" "$url/api/sessions")" 401 "bearer one char short"
assert_eq "$(code -b "ttyaudit_token=nope$token" "$url/api/sessions")" 401 "wrong cookie"
assert_eq "$(code "$url/?token=wrong")" 401 "wrong ?token="
assert_eq "$(code -H "Authorization: Bearer $token" "$url/api/sessions")" 200 "right bearer"
curl -fsS -H "Authorization: Bearer $token" "$url/api/sessions" | jq -e '.sessions[0].argv | join(" ") | contains("token-test-session")' >/dev/null ||
  fail "the spool's session is not listed"
headers=$(curl -sS -D - -o /dev/null "$url/?token=$token")
assert_contains "$headers" "303" "?token= login redirects"
assert_contains "$headers" "Set-Cookie: ttyaudit_token=$token; Path=/; HttpOnly; SameSite=Strict" "login cookie"
grep -qi "^location: /\s*$" <<<"$headers" || fail "the redirect keeps the token in the address: $headers"
assert_eq "$(code -b "ttyaudit_token=$token" "$url/api/sessions")" 200 "login cookie lets in"
assert_eq "$(code -X POST -H "Authorization: Bearer $token" "$url/api/sessions")" 405 "POST"
assert_eq "$(code -X DELETE -H "Authorization: Bearer $token" "$url/api/sessions")" 405 "DELETE"
ok "wrong or missing tokens get 401; the Bearer header and the login cookie let in; only GET"

# Loopback needs no token; HTTPS with --cert/--key.
make_tls_cert
serve_bg tls --listen 127.0.0.1:0 --cert "$T/server.pem" --key "$T/server.key"
[[ $url == https://127.0.0.1:* ]] || fail "not an https URL: $url"
assert_eq "$(code --cacert "$T/ca.pem" "$url/api/sessions")" 200 "HTTPS with the CA"
headers=$(curl -sS -D - -o /dev/null --cacert "$T/ca.pem" "$url/")
assert_contains "$headers" "Content-Security-Policy: default-src 'self'; script-src 'self' 'wasm-unsafe-eval';" "CSP"
assert_contains "$headers" "X-Content-Type-Options: nosniff" "nosniff"
ok "HTTPS with --cert/--key, the CSP and nosniff on every page"
