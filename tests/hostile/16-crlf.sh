# CRLF line ends: records read, no \r left in the text.
setup() { records 4 | sed 's/$/\r/' > in.jsonl; config in.jsonl; }
cmd=(clean c.yaml); rc=0; err=""
check() { [ "$(summary clean.malformed)" = 0 ] && [ "$(summary clean.read)" = 4 ]; }
