# A text field that is a number: malformed (text_not_string).
setup() { { records 2; printf '{"id": "n", "content": 42}\n'; } > in.jsonl; config in.jsonl; }
cmd=(clean c.yaml); rc=0; err="is a number, not a string"
check() { [ "$(summary clean.malformed_by.text_not_string)" = 1 ]; }
