# A text field that is null: malformed (text_not_string).
setup() { { records 2; printf '{"id": "n", "content": null}\n'; } > in.jsonl; config in.jsonl; }
cmd=(clean c.yaml); rc=0; err="is null, not a string"
check() { [ "$(summary clean.malformed_by.text_not_string)" = 1 ]; }
