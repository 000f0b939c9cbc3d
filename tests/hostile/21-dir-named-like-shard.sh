# A directory named like a shard (x.jsonl.gz/): walked as a folder, its files read; nothing opened as gzip.
setup() { mkdir -p shard.jsonl.gz; records 3 > shard.jsonl.gz/inner.jsonl; config shard.jsonl.gz; }
cmd=(clean c.yaml); rc=0; err=""
check() { [ "$(summary clean.read)" = 3 ] && [ "$(summary clean.input_errors)" = 0 ]; }
