# JSON escapes of lone surrogates (\ud800, \udc00): no crash, the record accounted for.
setup() { printf '{"id": "s", "content": "lone \\ud800 high and \\udc00 low"}\n{"id": "t", "content": "fine"}\n' > in.jsonl; config in.jsonl; }
cmd=(clean c.yaml); rc=0; err=""
check() { [ "$(summary clean.read)" = 2 ]; }
