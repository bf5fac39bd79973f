#!/usr/bin/env bash
# Self-test of harness.py: start every service, push a tiny image built with umoci into each,
# pull it back with skopeo/curl, exercise the failure modes, corrupt a blob, stop.
# Needs: python3 docker-registry skopeo umoci openssl curl htpasswd (apache2-utils). Bounded (~35 s).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
H="python3 $HERE/harness.py"
T="timeout 60"
TMP="$(mktemp -d /tmp/stowaway-registry-selftest.XXXXXX)"
WD="$TMP/harness"
PASS=0
FAIL=0

cleanup() {
  $H stop --workdir "$WD" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

ok()   { PASS=$((PASS + 1)); echo "  ok   $*"; }
bad()  { FAIL=$((FAIL + 1)); echo "  FAIL $*"; }
# expect_ok DESC CMD... / expect_fail DESC REGEX CMD...  (output captured in $TMP/last.out)
expect_ok() {
  local d="$1"; shift
  if "$@" >"$TMP/last.out" 2>&1; then ok "$d"; else bad "$d"; sed 's/^/       | /' "$TMP/last.out" | tail -15; fi
}
expect_fail() {
  local d="$1" re="$2"; shift 2
  if "$@" >"$TMP/last.out" 2>&1; then bad "$d (unexpectedly succeeded)"
  elif grep -Eqi -- "$re" "$TMP/last.out"; then ok "$d  [$(grep -Eoi -m1 -- "$re" "$TMP/last.out" | head -1)]"
  else bad "$d (failed, but output lacks /$re/)"; sed 's/^/       | /' "$TMP/last.out" | tail -15; fi
}
expect_eq() { if [ "$2" = "$3" ]; then ok "$1 ($2)"; else bad "$1: got '$2' want '$3'"; fi; }
j() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [d := d[k] for k in sys.argv[2:]]; print("" if d is None else d)' "$WD/harness.json" "$@"; }

echo "== start"
$T $H start --workdir "$WD"
for s in anonymous basic token tls fly ratelimit dropper; do
  declare "HOST_$s=$(j $s host)"
done
CA="$(j ca)"; CERTDIR="$(j certdir)"
BASIC_PW="$(j basic password)"; BOB_PW="$(j token password)"; FLY_PW="$(j fly password)"
TOKSRV="$(j token token_server host)"; TOKSVC="$(j token service)"

echo "== build image (umoci)"
umoci init --layout "$TMP/oci"
umoci new --image "$TMP/oci:v1"
mkdir -p "$TMP/src"
head -c 200000 /dev/urandom >"$TMP/src/noise.bin"      # > 64 KiB, incompressible: dropper target
printf 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n' >"$TMP/src/app.env"
umoci insert --image "$TMP/oci:v1" "$TMP/src" /opt/app
umoci config --image "$TMP/oci:v1" --config.env FAKE_TOKEN=ghp_000000000000000000000000000000000000
SRC="oci:$TMP/oci:v1"

# Per-service skopeo options (right credentials + trust); $2 = "--src-" for copy, "--" for inspect
opts() {
  local p="${2:---src-}"
  case "$1" in
    basic) echo "${p}tls-verify=false ${p}creds alice:$BASIC_PW" ;;
    token) echo "${p}tls-verify=false ${p}creds bob:$BOB_PW" ;;
    fly)   echo "${p}tls-verify=false ${p}creds x:$FLY_PW" ;;
    tls)   echo "${p}cert-dir $CERTDIR" ;;
    *)     echo "${p}tls-verify=false" ;;
  esac
}
hostof() { local v="HOST_$1"; echo "${!v}"; }
export REGISTRY_AUTH_FILE="$TMP/auth.json"; echo '{"auths":{}}' >"$REGISTRY_AUTH_FILE"
SK="$T skopeo --insecure-policy"

echo "== push to every service"
WANT=""
for s in anonymous basic token tls fly ratelimit dropper; do
  d="$($T $H push --workdir "$WD" --service "$s" --source "$SRC" --dest "selftest/img:v1")"
  [ -z "$WANT" ] && WANT="$d"
  expect_eq "push $s" "$d" "$WANT"
done

echo "== pull back with the right credentials"
for s in anonymous basic token tls fly; do
  # shellcheck disable=SC2046
  expect_ok "skopeo inspect $s" $SK inspect $(opts $s --) "docker://$(hostof $s)/selftest/img:v1"
  got="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Digest"])' "$TMP/last.out" 2>/dev/null || true)"
  expect_eq "  digest via $s" "$got" "$WANT"
  # shellcheck disable=SC2046
  expect_ok "skopeo copy $s -> oci" $SK copy $(opts $s) "docker://$(hostof $s)/selftest/img:v1" "oci:$TMP/pulled-$s:v1"
done
LAYER="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' \
  "$TMP/pulled-anonymous/blobs/sha256/${WANT#sha256:}")"
echo "   layer: $LAYER"

echo "== auth failures"
expect_fail "basic: wrong password (skopeo)" "401|unauthorized" \
  $SK inspect --tls-verify=false --creds alice:wrong "docker://$HOST_basic/selftest/img:v1"
expect_eq "basic: wrong password (curl)" "$(curl -s -o /dev/null -w '%{http_code}' -u alice:wrong "http://$HOST_basic/v2/")" 401
expect_eq "basic: no credentials" "$(curl -s -o /dev/null -w '%{http_code}' "http://$HOST_basic/v2/selftest/img/tags/list")" 401
expect_ok "fly: challenge is Basic realm=\"registry.fly.io\"" \
  bash -c "curl -s -D - -o /dev/null http://$HOST_fly/v2/ | grep -i '^www-authenticate: Basic realm=\"registry.fly.io\"'"
expect_eq "fly: x:<token> accepted" "$(curl -s -o /dev/null -w '%{http_code}' -u "x:$FLY_PW" "http://$HOST_fly/v2/")" 200
expect_eq "fly: token as username rejected" "$(curl -s -o /dev/null -w '%{http_code}' -u "$FLY_PW:$FLY_PW" "http://$HOST_fly/v2/")" 401
expect_fail "token: wrong password (skopeo)" "401|unauthorized" \
  $SK inspect --tls-verify=false --creds bob:wrong "docker://$HOST_token/selftest/img:v1"
expect_eq "token server: wrong password" \
  "$(curl -s -o /dev/null -w '%{http_code}' -u bob:wrong "http://$TOKSRV/token?service=$TOKSVC&scope=repository:selftest/img:pull")" 401
ANON_TOK="$(curl -s "http://$TOKSRV/token?service=$TOKSVC&scope=repository:selftest/img:pull" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
expect_eq "token: anonymous token has no access -> registry 401" \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ANON_TOK" "http://$HOST_token/v2/selftest/img/manifests/v1")" 401
expect_ok "token: challenge is Bearer realm/service" \
  bash -c "curl -s -D - -o /dev/null http://$HOST_token/v2/ | grep -i '^www-authenticate: Bearer realm=\"http://$TOKSRV/token\",service=\"$TOKSVC\"'"
# OAuth2 POST: password grant with access_type=offline -> refresh_token -> refresh grant -> pull manifest
RT="$(curl -s -X POST --data-urlencode grant_type=password --data-urlencode username=bob --data-urlencode "password=$BOB_PW" \
  -d "service=$TOKSVC&client_id=selftest&access_type=offline&scope=repository:selftest/img:pull" "http://$TOKSRV/token" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])')"
AT="$(curl -s -X POST --data-urlencode "refresh_token=$RT" -d "grant_type=refresh_token&service=$TOKSVC&client_id=selftest&scope=repository:selftest/img:pull" \
  "http://$TOKSRV/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
expect_eq "token: POST refresh_token grant -> manifest 200" \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $AT" \
     -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$HOST_token/v2/selftest/img/manifests/v1")" 200
IT="$(j token identitytoken)"
expect_eq "token: harness.json identitytoken is a valid refresh token" \
  "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-urlencode "refresh_token=$IT" \
     -d "grant_type=refresh_token&service=$TOKSVC&client_id=selftest&scope=repository:selftest/img:pull" "http://$TOKSRV/token")" 200
expect_eq "token: POST bad refresh token" \
  "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d "grant_type=refresh_token&refresh_token=nope&service=$TOKSVC&client_id=selftest" "http://$TOKSRV/token")" 401

echo "== TLS"
expect_fail "tls: skopeo without the CA" "x509|certificate" \
  $SK inspect "docker://$HOST_tls/selftest/img:v1"
expect_fail "tls: curl without the CA" "certificate|SSL" curl -sS -o /dev/null "https://$HOST_tls/v2/"
expect_eq "tls: curl --cacert ca.pem" "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" "https://$HOST_tls/v2/")" 200
expect_eq "tls: localhost name also valid" "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" "https://localhost:${HOST_tls##*:}/v2/")" 200

echo "== ratelimit proxy"
curl -s -D "$TMP/rl.h" -o "$TMP/rl.b" "http://$HOST_ratelimit/v2/selftest/img/manifests/v1" || true
expect_ok "ratelimit: first request 429" grep -q '^HTTP/1.1 429' "$TMP/rl.h"
expect_ok "ratelimit: Retry-After: 1" grep -qi '^Retry-After: 1' "$TMP/rl.h"
expect_ok "ratelimit: TOOMANYREQUESTS body" grep -q '"code": "TOOMANYREQUESTS"' "$TMP/rl.b"
expect_eq "ratelimit: second request passes" "$(curl -s -o /dev/null -w '%{http_code}' \
  -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$HOST_ratelimit/v2/selftest/img/manifests/v1")" 200
expect_ok "ratelimit: skopeo copy succeeds (skopeo honours 429 + Retry-After)" \
  $SK copy --src-tls-verify=false "docker://$HOST_ratelimit/selftest/img:v1" "oci:$TMP/pulled-ratelimit:v1"
n429="$(grep -ac '" 429 -' "$WD/logs/ratelimit.log" || true)"
if [ "$n429" -ge 3 ]; then ok "ratelimit: proxy log shows $n429 answers 429"; else bad "ratelimit: only $n429 answers 429"; fi

echo "== dropper proxy"
SIZE="$(stat -c %s "$TMP/pulled-anonymous/blobs/sha256/${LAYER#sha256:}")"
set +e
curl -sS -o "$TMP/part" -D "$TMP/part.h" "http://$HOST_dropper/v2/selftest/img/blobs/$LAYER" 2>"$TMP/part.err"; rc=$?
set -e
GOT="$(stat -c %s "$TMP/part")"
expect_eq "dropper: first fetch cut (curl exit 18 = partial file)" "$rc" 18
expect_ok "dropper: full Content-Length announced" grep -qi "^Content-Length: $SIZE" "$TMP/part.h"
expect_eq "dropper: received half" "$GOT" "$((SIZE / 2))"
curl -sS -o "$TMP/rest" -D "$TMP/rest.h" -H "Range: bytes=$GOT-" "http://$HOST_dropper/v2/selftest/img/blobs/$LAYER"
expect_ok "dropper: Range request -> 206" grep -q '^HTTP/1.1 206' "$TMP/rest.h"
expect_ok "dropper: Content-Range bytes $GOT-$((SIZE - 1))/$SIZE" grep -qi "^Content-Range: bytes $GOT-$((SIZE - 1))/$SIZE" "$TMP/rest.h"
expect_eq "dropper: part+rest hash to the digest" "sha256:$(cat "$TMP/part" "$TMP/rest" | sha256sum | cut -d' ' -f1)" "$LAYER"
expect_eq "dropper: reset" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$HOST_dropper/__harness/reset")" 200
expect_fail "dropper: skopeo copy after reset hits the cut (skopeo 1.9 does not resume)" "unexpected EOF" \
  $SK copy --src-tls-verify=false "docker://$HOST_dropper/selftest/img:v1" "oci:$TMP/pulled-dropper1:v1"
expect_ok "dropper: skopeo copy again succeeds" \
  $SK copy --src-tls-verify=false "docker://$HOST_dropper/selftest/img:v1" "oci:$TMP/pulled-dropper2:v1"

echo "== fault services (faults.py)"
F503="$(j fault-503 host)"; F429="$(j fault-429 host)"; FTR="$(j fault-trickle host)"; FSI="$(j fault-silent host)"
FHU="$(j fault-huge host)"; FRE="$(j fault-redirect host)"; FLB="$(j fault-long-blob host)"; FST="$(j fault-stall-blob host)"
FTE="$(j fault-token-echo host)"; FTLS="$(j fault-tls-realm host)"
M=/v2/fault/app/manifests/v1
curl -s -D "$TMP/f.h" -o /dev/null "http://$F503$M" || true
expect_ok "fault-503: 503 with Retry-After as an HTTP date" grep -Eqi '^Retry-After: [A-Z][a-z]{2}, [0-9]{2} ' "$TMP/f.h"
expect_eq "fault-503: /v2/ answers 200" "$(curl -s -o /dev/null -w '%{http_code}' "http://$F503/v2/")" 200
curl -s -D "$TMP/f.h" -o /dev/null "http://$F429$M" || true
expect_ok "fault-429: 429 with Retry-After: 2" grep -qi '^Retry-After: 2' "$TMP/f.h"
set +e
curl -s -m 1 -o /dev/null "http://$FSI/v2/"; rc=$?
expect_eq "fault-silent: no answer within 1 s (curl exit 28)" "$rc" 28
GOT="$(curl -s -m 2 "http://$FTR$M" | wc -c)"; 
expect_ok "fault-trickle: a few bytes in 2 s ($GOT)" test "$GOT" -ge 1 -a "$GOT" -le 8
GOT="$(curl -s "http://$FHU$M" | wc -c)"
expect_ok "fault-huge: manifest over 4 MiB ($GOT bytes)" test "$GOT" -gt $((4 << 20))
curl -s -L --max-redirs 5 -o /dev/null "http://$FRE$M"; rc=$?
expect_eq "fault-redirect: a redirect loop (curl exit 47)" "$rc" 47
FLAYER="$(curl -s "http://$FLB$M" | python3 -c 'import json,sys; l=json.load(sys.stdin)["layers"][0]; print(l["digest"], l["size"])')"
GOT="$(curl -s "http://$FLB/v2/fault/app/blobs/${FLAYER% *}" | head -c 1000000 | wc -c)"
expect_ok "fault-long-blob: more than the descriptor's ${FLAYER#* } bytes ($GOT read, stopped by us)" test "$GOT" -gt "${FLAYER#* }"
curl -s -m 2 -o "$TMP/stall" "http://$FST/v2/fault/app/blobs/${FLAYER% *}"; rc=$?
expect_eq "fault-stall-blob: half the blob, then silence (curl exit 28)" "$rc:$(stat -c %s "$TMP/stall")" "28:$(( ${FLAYER#* } / 2 ))"
set -e
ECHO_PW="pw-$RANDOM$RANDOM"
expect_ok "fault-token-echo: the realm echoes the password" \
  bash -c "curl -s -u alice:$ECHO_PW 'http://$FTE/token?service=fault' | grep -q $ECHO_PW"
expect_ok "fault-tls-realm: HTTPS registry announcing an http:// realm" \
  bash -c "curl -s -D - -o /dev/null --cacert '$CA' https://$FTLS/v2/ | grep -qi '^www-authenticate: Bearer realm=\"http://$FTE/tls-realm\"'"

echo "== corrupt-blob"
expect_ok "corrupt-blob anonymous $LAYER" $T $H corrupt-blob --workdir "$WD" --service anonymous --digest "$LAYER"
expect_fail "skopeo copy of corrupted blob fails digest check" "digest" \
  $SK copy --src-tls-verify=false "docker://$HOST_anonymous/selftest/img:v1" "oci:$TMP/pulled-corrupt:v1"
sed 's/^/       | /' "$TMP/last.out" | tail -2
expect_ok "other registries unaffected (basic)" \
  $SK copy $(opts basic) "docker://$HOST_basic/selftest/img:v1" "oci:$TMP/pulled-basic2:v1"

echo "== stop"
PIDS="$(j pids | tr -d '[],')"
$T $H stop --workdir "$WD"
alive=0   # zombies awaiting reaping by PID 1 do not count
for p in $PIDS; do st="$(ps -o stat= -p "$p" 2>/dev/null || true)"; case "$st" in ""|Z*) ;; *) alive=$((alive + 1)) ;; esac; done
expect_eq "stop: no process left" "$alive" 0
expect_fail "stop: port closed" "Failed to connect|Couldn't connect|refused" curl -sS -m 2 "http://$HOST_anonymous/v2/"
expect_ok "stop: idempotent" $T $H stop --workdir "$WD"

echo "selftest: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
