# gzip with its deflate data overwritten: an error naming the file, no crash.
setup() { records 200 | gzip > in.jsonl.gz; printf '\xff\xff\xff\xff\xff\xff\xff\xff' | dd of=in.jsonl.gz bs=1 seek=40 conv=notrunc 2>/dev/null; config in.jsonl.gz; }
cmd=(clean c.yaml); rc=any; err="in.jsonl.gz"
check() { [ "$(summary clean.input_errors)" = 1 ]; }
