# JSON nested 100,000 deep: malformed (invalid_json), the records around it kept.
setup() { { records 3; python3 -c "print('{\"id\": \"deep\", \"content\": \"x\", \"n\": ' + '[' * 100000 + ']' * 100000 + '}')"; records 3; } > in.jsonl; config in.jsonl; }
cmd=(clean c.yaml); rc=0; err="in.jsonl:4:"
check() { [ "$(summary clean.malformed)" = 1 ] && [ "$(summary clean.read)" = 7 ]; }
