# A record with 100,000 members and a 1 MB key: parsed or malformed, bounded, the next record read.
setup() { python3 -c "
import json
d = {'id': 'wide', 'content': 'wide record text'}
d.update({'k%d' % i: i for i in range(100000)})
print(json.dumps(d)); print(json.dumps({'id': 'k' * 1000000, 'content': 'long key'})); print(json.dumps({'id': 'z', 'content': 'after'}))" > in.jsonl; config in.jsonl; }
cmd=(clean c.yaml); rc=0; err=""
check() { [ "$(summary clean.read)" = 3 ]; }
