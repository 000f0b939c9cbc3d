# A tar with ../ and absolute member names: read as data, never written anywhere; names kept as evidence.
setup() { python3 -c "
import tarfile, io
data = b'{\"id\": \"t\", \"content\": \"traversal attempt text here\"}\n'
with tarfile.open('in.tar', 'w') as t:
    for name in ('../../escape.jsonl', '/etc/evil.jsonl', 'ok.jsonl'):
        ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))"; config in.tar; }
cmd=(clean c.yaml); rc=0; err=""
check() { [ "$(summary clean.read)" = 3 ] && [ ! -e ../escape.jsonl ] && [ ! -e ../../escape.jsonl ] && [ ! -e /etc/evil.jsonl ] \
  && find o -name '*.zst' -exec zstdcat {} + | grep -qF '"member":"../../escape.jsonl"'; }
