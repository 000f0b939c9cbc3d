# The text field twice in one record: malformed (duplicate_text), not silently one of them.
setup() { { records 2; printf '{"id": "d", "content": "a", "content": "b"}\n'; } > in.jsonl; config in.jsonl; }
cmd=(clean c.yaml); rc=0; err="appears 2 times"
check() { [ "$(summary clean.malformed_by.duplicate_text)" = 1 ]; }
