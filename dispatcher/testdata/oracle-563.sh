#!/bin/bash
D=$(mktemp -d /tmp/kd/r.XXXX)
cp "$1" $D/d.list
PORT=31999
cat > $D/k.cfg <<CFG
#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=1
listen=udp:127.0.0.1:$PORT
listen=tcp:127.0.0.1:$PORT name "alt"
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "ctl.so"
loadmodule "dispatcher.so"
modparam("ctl", "binrpc", "unix:$D/ctl")
modparam("dispatcher", "list_file", "$D/d.list")
${EXTRA}
request_route { drop; }
CFG
kamailio -f $D/k.cfg -DD -E -a no > $D/log 2>&1 &
KP=$!
for i in $(seq 1 40); do [ -S $D/ctl ] && break; kill -0 $KP 2>/dev/null || break; sleep 0.1; done
kamcmd -s unix:$D/ctl dispatcher.list > $D/out 2>&1
kill $KP; wait $KP 2>/dev/null
python3 - $D/out $D/log <<'PY'
import sys,re
out=open(sys.argv[1]).read().splitlines()
for l in out:
    l=l.strip()
    m=re.match(r'(ID|URI|FLAGS|PRIORITY|BODY|DUID|MAXLOAD|WEIGHT|RWEIGHT|SOCKET|SOCKNAME|OBPROXY): ?(.*)$',l)
    if not m: continue
    k,v=m.groups()
    if k=='ID': print('set',v)
    elif k=='URI': print('dest',v)
    else: print(' ',k,v)
for l in open(sys.argv[2]):
    m=re.search(r'pack_dest\(\): (.*)$',l.rstrip('\n'))
    if m: print('error',m.group(1))
PY
