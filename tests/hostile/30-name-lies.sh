# A .gz that is plain text: the content wins, with a warning.
setup() { records 3 > in.jsonl.gz; config in.jsonl.gz; }
cmd=(clean c.yaml); rc=0; err="warning"
check() { [ "$(summary clean.read)" = 3 ]; }
