# A gzip stream cut in the middle: an error naming the file and byte; the records before the cut kept.
setup() { records 200 | gzip > full.gz; head -c $(( $(stat -c %s full.gz) / 2 )) full.gz > in.jsonl.gz; rm full.gz; config in.jsonl.gz; }
cmd=(clean c.yaml); rc=0; err="in.jsonl.gz: truncated"
check() { [ "$(summary clean.kept)" -gt 10 ] && [ "$(summary clean.input_errors_by.damaged)" = 1 ]; }
