# A tar whose header block is garbage: an error naming the file.
setup() { records 20 > a.jsonl; tar cf in.tar a.jsonl; printf 'garbage garbage garbage' | dd of=in.tar bs=1 seek=100 conv=notrunc 2>/dev/null; rm a.jsonl; config in.tar; }
cmd=(clean c.yaml); rc=any; err="in.tar"
check() { [ "$(summary clean.input_errors)" = 1 ]; }
