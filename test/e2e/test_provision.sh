#!/usr/bin/env bash
# The provisioning files in env/, each tested as far as this machine can:
#  - rfarm-buildlet.service: `systemd-analyze verify` says nothing, the
#    keys that matter are there; its ExecStart, expanded from
#    env/buildlet.env as systemd would and with the paths moved under $T,
#    runs under the unit's capability bounding set and no_new_privs
#    (setpriv) against a real coordinator with TLS: it connects as
#    "enrolled", runs a build with sources and an artifact as nobody
#    (standing in for rfarm-jobs), cancels a job, and picks up a rotated
#    token from its file (the README's procedure);
#  - cloud-init.yaml: parses, modes, runcmd passes `sh -n`, the unit in it
#    is the file; its env file and token, placeholders filled, drive the
#    same ExecStart with --pin: connects as "enrolled";
#  - org.rfarm.buildlet.plist: parses (plistlib), keys; its
#    ProgramArguments, paths moved, run: connects as "enrolled", builds;
#  - buildlet-entrypoint.sh (the Dockerfile's entry point) run as is:
#    connects as "enrolled", builds; the Dockerfile gets a structural lint;
#  - install-buildlet.ps1: brackets balance, parameters, flags, no token
#    on the service's command line (PowerShell cannot run here).
# What a machine lacks (systemd-analyze, PyYAML, root for --run-as) is
# reported as NOT RUN, never as passed.
. "$(dirname "$0")/lib.sh"

ENV_DIR=$(cd "$(dirname "$0")/../../env" && pwd)
notrun() { echo "NOT RUN: $*"; }
PY=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import plistlib, shlex' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "SKIP: needs python3 (plistlib) to read the files"; exit 77; }
HAVE_YAML=
for p in "$PY" /usr/bin/python3; do
  if "$p" -c 'import yaml' 2>/dev/null; then HAVE_YAML=$p; break; fi
done
ROOT=
[ "$(id -u)" = 0 ] && id -u nobody >/dev/null 2>&1 && command -v setpriv >/dev/null && ROOT=1
case $(uname -m) in
  x86_64) ARCH=amd64 ;; aarch64|arm64) ARCH=arm64 ;; *) ARCH=$(uname -m) ;;
esac
PLATFORM=linux/$ARCH

# ---- helpers in Python: parse the files the way their readers would ----
cat >"$T/prov.py" <<'EOF'
import json, os, plistlib, re, shlex, sys

def unit_entries(path):
    """[(section, key, value)] of a systemd unit, continuations joined."""
    out, sec, cont = [], None, ''
    for raw in open(path):
        line = raw.rstrip('\n')
        if not cont and line.lstrip().startswith(('#', ';')):
            continue
        if line.endswith('\\'):
            cont += line[:-1] + ' '
            continue
        line, cont = cont + line, ''
        line = line.strip()
        if not line:
            continue
        if line.startswith('['):
            sec = line.strip('[]')
        elif '=' in line:
            k, v = line.split('=', 1)
            out.append((sec, k.strip(), v.strip()))
    return out

def env_file(path):
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them."""
    env = {}
    for line in open(path):
        line = line.strip()
        if not line or line[0] in '#;' or '=' not in line:
            continue
        k, v = line.split('=', 1)
        v = v.strip()
        if len(v) >= 2 and v[0] == v[-1] and v[0] in '"\'':
            v = v[1:-1]
        env[k.strip()] = v
    return env

def expand(cmd, env):
    """ExecStart= words: ${X} in place, a lone $X split on spaces."""
    argv = []
    for w in shlex.split(cmd):
        m = re.fullmatch(r'\$([A-Za-z_][A-Za-z0-9_]*)', w)
        if m:
            argv += env.get(m.group(1), '').split()
            continue
        for name in re.findall(r'\$\{([A-Za-z_][A-Za-z0-9_]*)\}', w):
            if name not in env:
                sys.exit('ExecStart uses ${%s}, which the environment file lacks' % name)
        argv.append(re.sub(r'\$\{([A-Za-z_][A-Za-z0-9_]*)\}', lambda m: env[m.group(1)], w))
    return argv

def moved(argv, moves):
    """Replace path prefixes; refuse an absolute path left unmoved."""
    out = []
    for a in argv:
        for old, new in moves:
            if a == old or a.startswith(old + '/'):
                a = new + a[len(old):]
                break
        out.append(a)
    return out

def cmd_unit(unit, envf, moves_json, out):
    e = unit_entries(unit)
    starts = [v for s, k, v in e if s == 'Service' and k == 'ExecStart']
    assert len(starts) == 1, 'one ExecStart'
    argv = moved(expand(starts[0], env_file(envf)), json.loads(moves_json))
    open(out, 'wb').write(b'\0'.join(a.encode() for a in argv) + b'\0')

def cmd_key(unit, section, key):
    for s, k, v in unit_entries(unit):
        if s == section and k == key:
            print(v)

def cmd_plist(path, moves_json, out):
    with open(path, 'rb') as f:
        p = plistlib.load(f)
    for k in ('Label', 'ProgramArguments', 'RunAtLoad', 'KeepAlive', 'UserName',
              'WorkingDirectory', 'StandardOutPath', 'StandardErrorPath'):
        assert k in p, 'plist lacks ' + k
    assert p['RunAtLoad'] is True and p['KeepAlive'] is True, 'RunAtLoad, KeepAlive true'
    moves = json.loads(moves_json)
    argv = moved(p['ProgramArguments'], moves)
    wd = moved([p['WorkingDirectory']], moves)[0]
    log = moved([p['StandardErrorPath']], moves)[0]
    env = p.get('EnvironmentVariables', {})
    with open(out, 'w') as f:
        json.dump({'argv': argv, 'cwd': wd, 'log': log, 'env': env,
                   'user': p['UserName']}, f)

def cmd_cloudinit(path, unit, out_dir):
    import yaml
    text = open(path).read()
    assert text.startswith('#cloud-config\n'), 'first line #cloud-config'
    d = yaml.safe_load(text)
    files = {f['path']: f for f in d['write_files']}
    unit_text = open(unit).read()
    svc = files['/etc/systemd/system/rfarm-buildlet.service']
    if svc['content'] != unit_text:
        import difflib
        sys.stdout.writelines(difflib.unified_diff(
            unit_text.splitlines(True), svc['content'].splitlines(True),
            'env/rfarm-buildlet.service', 'cloud-init.yaml'))
        sys.exit('the unit in cloud-init.yaml is not env/rfarm-buildlet.service '
                 '(paste the file there, indented by 6 spaces)')
    tok = files['/etc/rfarm/buildlet.token']
    assert str(tok['permissions']) == '0600', 'token file 0600'
    assert tok.get('owner', 'root:root') == 'root:root', 'token owned by root'
    for k in ('packages', 'runcmd'):
        assert k in d, 'cloud-init lacks ' + k
    cmds = [c[2] for c in d['runcmd'] if isinstance(c, list) and c[:2] == ['sh', '-c']]
    joined = ' '.join(' '.join(c) if isinstance(c, list) else c for c in d['runcmd'])
    assert 'enable' in joined and 'rfarm-buildlet' in joined, 'runcmd enables the unit'
    assert 'sha256sum -c' in joined, 'runcmd checks the binary'
    os.makedirs(out_dir, exist_ok=True)
    open(os.path.join(out_dir, 'buildlet.env'), 'w').write(files['/etc/rfarm/buildlet.env']['content'])
    open(os.path.join(out_dir, 'token.tmpl'), 'w').write(tok['content'])
    open(os.path.join(out_dir, 'runcmd'), 'wb').write(b'\0'.join(c.encode() for c in cmds) + b'\0')
    open(os.path.join(out_dir, 'packages'), 'w').write('\n'.join(d['packages']) + '\n')

def cmd_dockerlint(path, root):
    errs, stages, user = [], 0, None
    lines, cont = [], ''
    for raw in open(path):
        s = raw.rstrip('\n')
        if not cont and s.lstrip().startswith('#'):
            continue
        if s.endswith('\\'):
            cont += s[:-1] + ' '
            continue
        s, cont = (cont + s).strip(), ''
        if s:
            lines.append(s)
    assert lines and lines[0].split()[0].upper() in ('FROM', 'ARG'), 'starts with FROM'
    entry = None
    copied = []
    for s in lines:
        op, _, rest = s.partition(' ')
        op = op.upper()
        if op == 'FROM':
            stages += 1
            user = None
        elif op == 'USER':
            user = rest.split(':')[0].strip()
        elif op in ('ENV', 'ARG'):
            for name in re.findall(r'([A-Za-z_][A-Za-z0-9_]*)=', rest) or [rest.split()[0]]:
                if re.search(r'KEY|TOKEN|SECRET|PASSW', name, re.I) and not re.search(r'_(FILE|PATH|DIR)$', name):
                    errs.append('%s %s looks like a secret' % (op, name))
        elif op == 'ENTRYPOINT':
            entry = json.loads(rest)
        elif op == 'COPY' and '--from=' not in rest:
            parts = [p for p in shlex.split(rest) if not p.startswith('--')]
            copied.append((parts[:-1], parts[-1]))
        if re.search(r'--token\b(?!-file)|RFARM_BUILDLET_KEY|\b[0-9a-f]{64}\b', s):
            errs.append('a token on a command line or in the file: ' + s[:60])
    if stages < 2:
        errs.append('a build stage and a runtime stage')
    if not user or user in ('root', '0'):
        errs.append('the final stage runs as a non-root USER')
    if not entry:
        errs.append('an exec-form ENTRYPOINT')
    for srcs, dst in copied:
        for src in srcs:
            if src != '.' and not os.path.exists(os.path.join(root, src)):
                errs.append('COPY %s: no such file in the tree' % src)
    if entry and not any(dst == entry[-1] for _, dst in copied) and not os.path.isabs(entry[0]):
        errs.append('the entry point is not copied in')
    if errs:
        sys.exit('; '.join(errs))
    print(json.dumps({'entrypoint': entry, 'copied': copied}))

def ps1_strip(text):
    """The code of a PowerShell script without comments and strings."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('<#', i):
            j = text.find('#>', i + 2)
            assert j >= 0, 'unclosed <# comment'
            i = j + 2
        elif c == '#':
            while i < n and text[i] != '\n':
                i += 1
        elif c == "'":
            i += 1
            while i < n and not (text[i] == "'" and text[i + 1:i + 2] != "'"):
                i += 2 if text[i] == "'" else 1
            assert i < n, "unclosed ' string"
            i += 1
            out.append("''")
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == '`' else 1
            assert i < n, 'unclosed " string'
            i += 1
            out.append('""')
        elif c == '`':
            i += 2
        else:
            out.append(c)
            i += 1
    return ''.join(out)

def cmd_ps1(path, help_path):
    text = open(path).read()
    code = ps1_strip(text)
    stack, pairs = [], {')': '(', '}': '{', ']': '['}
    for ch in code:
        if ch in '({[':
            stack.append(ch)
        elif ch in pairs:
            assert stack and stack[-1] == pairs[ch], 'unbalanced ' + ch
            stack.pop()
    assert not stack, 'unclosed ' + ''.join(stack)
    m = re.search(r'param\s*\((.*?)\n\)', text, re.S)
    assert m, 'a param() block'
    params = m.group(1)
    for name in ('CoordinatorUrl', 'Name', 'TokenPath'):
        assert re.search(r'\$' + name + r'\b', params), 'parameter -' + name
    mandatory = set()
    for m in re.finditer(r'Mandatory\s*=\s*\$true', params):
        v = re.compile(r'\[string\]\s*\$(\w+)').search(params, m.end())
        if v:
            mandatory.add(v.group(1))
    for name in ('CoordinatorUrl', 'Name'):
        assert name in mandatory, '-%s is mandatory' % name
    flags = set(re.findall(r"'(--[a-z][a-z-]*)'", text))
    known = set(re.findall(r'(--[a-z][a-z-]*)', open(help_path).read()))
    unknown = flags - known
    assert not unknown, 'flags rfarm buildlet does not have: %s' % sorted(unknown)
    assert '--token-file' in flags, 'the service reads --token-file'
    body = re.search(r'function Get-BuildletArgs \{(.*?)\n\}', text, re.S).group(1)
    assert '$token' not in body.replace('$TokenPath', ''), 'no token on the command line'
    print(' '.join(sorted(flags)))

globals()['cmd_' + sys.argv[1]](*sys.argv[2:])
EOF
prov() { "$PY" "$T/prov.py" "$@"; }

# ---- static checks ----
UNIT=$ENV_DIR/rfarm-buildlet.service
for f in rfarm-buildlet.service buildlet.env org.rfarm.buildlet.plist Dockerfile \
         buildlet-entrypoint.sh cloud-init.yaml install-buildlet.ps1 README.md; do
  check "env/$f exists" test -s "$ENV_DIR/$f"
done
key() { prov key "$UNIT" "$1" "$2"; }
eq "the unit restarts always" always "$(key Service Restart)"
check "after a pause (RestartSec)" test -n "$(key Service RestartSec)"
eq "its settings come from /etc/rfarm/buildlet.env" /etc/rfarm/buildlet.env "$(key Service EnvironmentFile)"
check "it reads the token from a file" grep -q -- '--token-file /etc/rfarm/buildlet.token' "$UNIT"
check "jobs run as an unprivileged user (--run-as or User=)" \
  bash -c "grep -q -- '--run-as rfarm-jobs' '$UNIT' || grep -q '^User=' '$UNIT'"
eq "its work directory is a state directory" rfarm-buildlet "$(key Service StateDirectory)"
for kv in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes; do
  eq "hardened: $kv" "${kv#*=}" "$(key Service "${kv%%=*}")"
done
check "no secret in the unit or its env file" \
  bash -c "! grep -qiE 'RFARM_BUILDLET_KEY|RFARM_TOKEN=|[0-9a-f]{64}' '$UNIT' '$ENV_DIR/buildlet.env'"

if command -v systemd-analyze >/dev/null; then
  # verify wants the binary to exist, and says nothing about a good unit
  # (a bad value is only a warning: any output fails).
  mkdir -p "$T/verify"
  sed "s|/usr/local/bin/rfarm|$RFARM|" "$UNIT" >"$T/verify/rfarm-buildlet.service"
  out=$(systemd-analyze verify --man=no "$T/verify/rfarm-buildlet.service" 2>&1)
  st=$?
  eq "systemd-analyze verify passes the unit, silently ($out)" "0 " "$st $out"
  # And it is not silent about a bad one (the check can fail).
  sed -i 's/^Restart=always/Restart=alwayz/' "$T/verify/rfarm-buildlet.service"
  check "systemd-analyze verify complains about Restart=alwayz" \
    grep -q alwayz <<<"$(systemd-analyze verify --man=no "$T/verify/rfarm-buildlet.service" 2>&1)"
  sed "s|/usr/local/bin/rfarm|$RFARM|" "$UNIT" >"$T/verify/rfarm-buildlet.service"
  exposure=$(systemd-analyze security --offline=yes --man=no \
    "$T/verify/rfarm-buildlet.service" 2>/dev/null | grep -o 'exposure level.*' | tail -1)
  echo "figure: systemd-analyze security: $exposure"
else
  notrun "systemd-analyze verify (no systemd-analyze here; the keys above were checked)"
fi

"$RFARM" buildlet --help >"$T/buildlet-help.txt" 2>&1
if flags=$(prov ps1 "$ENV_DIR/install-buildlet.ps1" "$T/buildlet-help.txt" 2>&1); then
  pass "install-buildlet.ps1: brackets balance, -CoordinatorUrl -Name -TokenPath, flags known ($flags), no token on the command line"
else
  fail "install-buildlet.ps1: $flags"
fi
if command -v pwsh >/dev/null; then
  check "pwsh parses install-buildlet.ps1" pwsh -NoProfile -Command \
    "\$e=\$null; [System.Management.Automation.Language.Parser]::ParseFile('$ENV_DIR/install-buildlet.ps1',[ref]\$null,[ref]\$e) | Out-Null; if (\$e) { \$e; exit 1 }"
else
  notrun "PowerShell on install-buildlet.ps1 (no pwsh here; Windows has no rfarm port yet)"
fi

if out=$(prov dockerlint "$ENV_DIR/Dockerfile" "$ENV_DIR/.." 2>&1); then
  pass "Dockerfile lint: two stages, non-root USER, no secret in ENV/ARG, no token on a command line, COPY sources exist"
else
  fail "Dockerfile lint: $out"
fi
if command -v shellcheck >/dev/null; then
  check "shellcheck passes the entry point" shellcheck "$ENV_DIR/buildlet-entrypoint.sh"
else
  notrun "shellcheck on the entry point (not installed)"
fi
check "the entry point is executable" test -x "$ENV_DIR/buildlet-entrypoint.sh"
if command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; then
  notrun "docker build (a daemon is here, but building needs debian:12 from a registry this machine cannot reach)"
else
  notrun "docker build/run (no docker daemon here)"
fi

# The packages that provide rfarm's libraries are the ones the Dockerfile
# and cloud-init install (on this Debian machine, by dpkg).
if [ -n "$HAVE_YAML" ]; then
  if out=$(PY=$HAVE_YAML; "$PY" "$T/prov.py" cloudinit "$ENV_DIR/cloud-init.yaml" "$UNIT" "$T/ci" 2>&1); then
    pass "cloud-init.yaml parses: #cloud-config, token 0600 root, the unit is env/rfarm-buildlet.service, runcmd fetches, checks, enables"
  else
    fail "cloud-init.yaml: $out"
  fi
  if [ -s "$T/ci/runcmd" ]; then
    n=0
    while IFS= read -r -d '' c; do
      n=$((n + 1))
      check "cloud-init runcmd $n passes sh -n" sh -n -c "$c"
    done <"$T/ci/runcmd"
  fi
else
  notrun "cloud-init.yaml parsing and its run below (no PyYAML here)"
fi
if command -v cloud-init >/dev/null; then
  check "cloud-init schema accepts cloud-init.yaml" \
    cloud-init schema --config-file "$ENV_DIR/cloud-init.yaml"
else
  notrun "cloud-init schema (cloud-init is not installed here)"
fi
if command -v dpkg >/dev/null && command -v ldd >/dev/null; then
  for lib in libwebsockets libmsgpackc libsqlite3 libcurl libssl libjansson libarchive; do
    so=$(ldd "$RFARM" | awk -v l="$lib" 'index($1, l ".so") == 1 {print $3; exit}')
    pkg=$(dpkg -S "$(readlink -f "$so")" 2>/dev/null | head -1 | cut -d: -f1)
    [ -n "$pkg" ] || { notrun "which package has $lib (not from dpkg here)"; continue; }
    check "the Dockerfile installs $pkg ($lib)" grep -qw -- "$pkg" "$ENV_DIR/Dockerfile"
    [ -s "$T/ci/packages" ] && check "cloud-init installs $pkg" grep -qx -- "$pkg" "$T/ci/packages"
  done
fi

# ---- a real coordinator, TLS, enrolled buildlets started by each file ----
chmod 711 "$T"   # nobody passes through to its work directories
"$RFARM" certgen --host 127.0.0.1 --out "$T" >"$T/fp" 2>/dev/null
PIN=$(tail -1 "$T/fp")
CA=$T/127.0.0.1.crt
DATA=$T/data
"$RFARM" coordinator --listen 127.0.0.1:0 --data "$DATA" --tls-cert "$CA" \
  --tls-key "$T/127.0.0.1.key" >>"$T/coordinator.log" 2>&1 &
PIDS+=("$!")
wait_for 20 test -s "$DATA/url" || { fail "coordinator did not start"; finish; }
RFARM_URL=$(cat "$DATA/url")
export RFARM_URL RFARM_CA=$CA
api() { curl -s --cacert "$CA" "$RFARM_URL/api/v1/$1"; }
bl() { api buildlets | jq -r --arg n "$1" ".buildlets[] | select(.name == \$n) | $2"; }
connected_enrolled() { [ "$(bl "$1" '"\(.connected) \(.credential)"')" = "true enrolled" ]; }
enroll() { # enroll NAME LABEL FILE: the token, 0600, in FILE
  mkdir -p "$(dirname "$3")"
  (umask 077; "$RFARM" enroll "$1" --host-type "linux-$ARCH" --label "$2" --data "$DATA" \
    2>/dev/null | tail -1 >"$3.new" && mv "$3.new" "$3")
}
# built NAME LABEL: a job on LABEL's buildlet passes there, as whom
built() {
  local j
  j=$(first_job "$("$RFARM" submit --platform "$PLATFORM" --label "$2" -- id -un 2>/dev/null)")
  eq "a job runs on $1" "passed $1" "$(wait_job "$j" 60) $(job_field "$j" buildlet)"
  JOB_USER=$(api "jobs/$j/log" | head -1)
}
JOBS_AS=$([ -n "$ROOT" ] && echo nobody || id -un)

# Run an argv from a NUL-separated file: under setpriv with the unit's
# capability bounding set and no_new_privs when root, as is otherwise
# (without --run-as, which needs root).
run_argv() { # run_argv ARGV_FILE LOG CWD [setpriv]
  local argv=() a
  while IFS= read -r -d '' a; do argv+=("$a"); done <"$1"
  if [ -z "$ROOT" ]; then
    local keep=() i=0
    while [ $i -lt ${#argv[@]} ]; do
      if [ "${argv[$i]}" = --run-as ]; then i=$((i + 2)); continue; fi
      keep+=("${argv[$i]}"); i=$((i + 1))
    done
    argv=("${keep[@]}")
  elif [ "${4:-}" = setpriv ]; then
    local caps
    caps=$(key Service CapabilityBoundingSet | tr ' ' '\n' | sed 's/^CAP_//' |
      tr 'A-Z' 'a-z' | sed 's/^/+/' | paste -sd,)
    argv=(setpriv --bounding-set "-all,$caps" --inh-caps=-all --no-new-privs -- "${argv[@]}")
  fi
  (cd "$3" && exec "${argv[@]}") >>"$2" 2>&1 &
  RUN_PID=$!
  PIDS+=("$RUN_PID")
}
[ -n "$ROOT" ] || notrun "--run-as and the unit's capability set (needs root, nobody and setpriv)"

# -- the systemd unit, with env/buildlet.env --
S=$T/systemd
mkdir -p "$S/etc" "$S/state"
chmod 700 "$S/etc"
chmod 711 "$S" "$S/state"   # StateDirectoryMode=0711
enroll prov-systemd via-systemd "$S/etc/buildlet.token"
cp "$CA" "$S/etc/coordinator.crt"
sed "s|^RFARM_COORDINATOR=.*|RFARM_COORDINATOR=\"$RFARM_URL\"|" "$ENV_DIR/buildlet.env" >"$S/buildlet.env"
moves=$(jq -nc --arg r "$RFARM" --arg s "$S" '[["/usr/local/bin/rfarm",$r],
  ["/etc/rfarm",($s+"/etc")],["/var/lib/rfarm-buildlet",($s+"/state")],["rfarm-jobs","nobody"]]')
if prov unit "$UNIT" "$S/buildlet.env" "$moves" "$S/argv" 2>"$T/prov.err"; then
  echo "unit's ExecStart here: $(tr '\0' ' ' <"$S/argv")"
  check "nothing in it is left under /etc, /var or /usr/local" \
    bash -c "! tr '\0' '\n' <'$S/argv' | grep -qE '^/(etc|var|usr/local)/'"
  run_argv "$S/argv" "$T/buildlet-systemd.log" "$S/state" setpriv
  SYSTEMD_PID=$RUN_PID
  check "the unit's buildlet connects, credential enrolled" wait_for 20 connected_enrolled prov-systemd
  eq "with the enrolment's labels" '["via-systemd"]' "$(bl prov-systemd '.labels' | jq -c .)"
  eq "and the unit's --capacity" 2 "$(bl prov-systemd .capacity)"
  mkdir -p "$T/src" && printf 'all:\n\tmkdir -p out && id -un > out/who && chmod 600 out/who\n' >"$T/src/Makefile"
  b=$("$RFARM" submit --platform "$PLATFORM" --label via-systemd --src "$T/src" \
    --artifact out/who -- make 2>/dev/null)
  j=$(first_job "$b")
  eq "a build with sources and a 0600 artifact passes there" "passed prov-systemd" \
    "$(wait_job "$j" 60) $(job_field "$j" buildlet)"
  rm -rf "$T/got"
  "$RFARM" get "$b" -o "$T/got" >/dev/null 2>&1
  eq "the job ran as $JOBS_AS (its artifact says)" "$JOBS_AS" "$(cat "$T"/got/*/out/who "$T"/got/out/who 2>/dev/null | head -1)"
  j=$(first_job "$("$RFARM" submit --platform "$PLATFORM" --label via-systemd -- sleep 60 2>/dev/null)")
  wait_for 20 sh -c "[ \"\$(curl -s --cacert '$CA' '$RFARM_URL/api/v1/jobs/$j' | jq -r .state)\" = running ]"
  "$RFARM" cancel "$(job_field "$j" build)" >/dev/null 2>&1
  eq "a cancelled job stops (the unit keeps CAP_KILL)" cancelled "$(wait_job "$j" 20)"
  # A leaked token, as env/README.md tells it: revoke (cuts the session),
  # enrol again, overwrite the file; the buildlet comes back by itself.
  old=$(cat "$S/etc/buildlet.token")
  "$RFARM" revoke prov-systemd --data "$DATA" 2>/dev/null
  check "revoke cuts the unit's buildlet" wait_for 10 eval '! connected_enrolled prov-systemd'
  check "which is then refused (HTTP 403)" wait_for 20 grep -q "HTTP 403" "$T/buildlet-systemd.log"
  enroll prov-systemd via-systemd "$S/etc/buildlet.token"
  check "re-enrolling made a new token" test "$old" != "$(cat "$S/etc/buildlet.token")"
  check "the buildlet picks up the new token" \
    wait_for 40 grep -q "the token in $S/etc/buildlet.token changed" "$T/buildlet-systemd.log"
  check "and is connected with it, enrolled" wait_for 30 connected_enrolled prov-systemd
  built prov-systemd via-systemd
  stop_pid TERM "$SYSTEMD_PID" 20
  eq "SIGTERM (systemctl stop) ends it, exit 0" 0 "$STOP_STATUS"
else
  fail "the unit's ExecStart: $(cat "$T/prov.err")"
fi

# -- cloud-init: its own env file (--pin) and token, with the unit --
if [ -s "$T/ci/buildlet.env" ]; then
  C=$T/cloud
  mkdir -p "$C/etc" "$C/state"
  chmod 700 "$C/etc"
  chmod 711 "$C" "$C/state"
  enroll prov-cloud via-cloudinit "$C/tok"
  sed -e "s|@RFARM_COORDINATOR@|$RFARM_URL|" -e "s|@RFARM_PIN@|$PIN|" "$T/ci/buildlet.env" >"$C/buildlet.env"
  check "cloud-init's env file has no placeholder left" bash -c "! grep -q @ '$C/buildlet.env'"
  (umask 077; sed "s|@RFARM_TOKEN@|$(cat "$C/tok")|" "$T/ci/token.tmpl" >"$C/etc/buildlet.token")
  moves=$(jq -nc --arg r "$RFARM" --arg s "$C" '[["/usr/local/bin/rfarm",$r],
    ["/etc/rfarm",($s+"/etc")],["/var/lib/rfarm-buildlet",($s+"/state")],["rfarm-jobs","nobody"]]')
  if prov unit "$UNIT" "$C/buildlet.env" "$moves" "$C/argv" 2>"$T/prov.err"; then
    check "cloud-init's command line trusts the coordinator by --pin" \
      bash -c "tr '\0' '\n' <'$C/argv' | grep -qx -- '--pin'"
    run_argv "$C/argv" "$T/buildlet-cloud.log" "$C/state" setpriv
    check "cloud-init's buildlet connects, credential enrolled" wait_for 20 connected_enrolled prov-cloud
    built prov-cloud via-cloudinit
    eq "as $JOBS_AS" "$JOBS_AS" "$JOB_USER"
  else
    fail "cloud-init's ExecStart: $(cat "$T/prov.err")"
  fi
fi

# -- the launchd plist's ProgramArguments --
M=$T/mac
mkdir -p "$M/etc" "$M/var" "$M/log"
chmod 700 "$M/etc"
chmod 711 "$M" "$M/var"
enroll prov-launchd via-launchd "$M/etc/buildlet.token"
cp "$CA" "$M/etc/coordinator.crt"
moves=$(jq -nc --arg r "$RFARM" --arg m "$M" --arg u "$RFARM_URL" '[["/usr/local/bin/rfarm",$r],
  ["/usr/local/etc/rfarm",($m+"/etc")],["/usr/local/var/rfarm-buildlet",($m+"/var")],
  ["/usr/local/var/log",($m+"/log")],["_rfarmjobs","nobody"],["@RFARM_COORDINATOR@",$u]]')
if prov plist "$ENV_DIR/org.rfarm.buildlet.plist" "$moves" "$M/plist.json" 2>"$T/prov.err"; then
  pass "the plist parses, with Label, ProgramArguments, RunAtLoad, KeepAlive, UserName, WorkingDirectory, Standard*Path"
  jq -j '.argv[] | (., "\u0000")' "$M/plist.json" >"$M/argv"
  check "its ProgramArguments name --token-file" grep -qx -- --token-file <(tr '\0' '\n' <"$M/argv")
  check "nothing in them is left under /usr/local" \
    bash -c "! tr '\0' '\n' <'$M/argv' | grep -qE '^/usr/local/|^@'"
  # launchd's environment is EnvironmentVariables alone (PATH, RFARM_LOG).
  PATH_SAVED=$PATH
  PATH="$(jq -r '.env.PATH // empty' "$M/plist.json"):$PATH"
  RFARM_LOG=$(jq -r '.env.RFARM_LOG // "info"' "$M/plist.json") \
    run_argv "$M/argv" "$(jq -r .log "$M/plist.json")" "$(jq -r .cwd "$M/plist.json")"
  PATH=$PATH_SAVED
  check "the plist's buildlet connects, credential enrolled" wait_for 20 connected_enrolled prov-launchd
  built prov-launchd via-launchd
  eq "as $JOBS_AS" "$JOBS_AS" "$JOB_USER"
  check "its log is at StandardErrorPath" grep -q "connected to the coordinator" "$M/log/rfarm-buildlet.log"
else
  fail "the plist: $(cat "$T/prov.err")"
fi

# -- the Dockerfile's entry point, run as is (outside a container) --
D=$T/docker
mkdir -p "$D/secrets" "$D/bin"
chmod 700 "$D/secrets"
enroll prov-docker via-docker "$D/secrets/rfarm-token"
ln -s "$RFARM" "$D/bin/rfarm"
out=$(env -i PATH=/usr/bin:/bin "$ENV_DIR/buildlet-entrypoint.sh" 2>&1)
eq "the entry point refuses to start without RFARM_COORDINATOR" "2" "$?"
check "saying so ($out)" grep -q "set RFARM_COORDINATOR" <<<"$out"
(cd "$D" && exec env -i PATH="$D/bin:/usr/bin:/bin" RFARM_LOG=info \
  RFARM_COORDINATOR="$RFARM_URL" RFARM_TOKEN_FILE="$D/secrets/rfarm-token" \
  RFARM_WORKDIR="$D/work" "$ENV_DIR/buildlet-entrypoint.sh" --ca "$CA" --capacity 1) \
  >>"$T/buildlet-docker.log" 2>&1 &
DOCKER_PID=$!
PIDS+=("$DOCKER_PID")
check "the entry point's buildlet connects, credential enrolled" wait_for 20 connected_enrolled prov-docker
built prov-docker via-docker
eq "its jobs run as the buildlet's own user" "$(id -un)" "$JOB_USER"
check "no token on its command line" \
  bash -c "! tr '\0' ' ' </proc/$DOCKER_PID/cmdline | grep -qF '$(cut -d. -f2 "$D/secrets/rfarm-token")'"

echo "--- rfarm buildlets ---"
"$RFARM" buildlets
finish
