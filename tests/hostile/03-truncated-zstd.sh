# A zstd frame cut short.
setup() { records 300 | zstd -q > full.zst; head -c $(( $(stat -c %s full.zst) - 20 )) full.zst > in.jsonl.zst; rm full.zst; config in.jsonl.zst; }
cmd=(clean c.yaml); rc=any; err="in.jsonl.zst: truncated zstd"
check() { [ "$(summary clean.input_errors_by.damaged)" = 1 ]; }
