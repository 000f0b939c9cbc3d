# Invalid JSON escapes (\x41, \u12G4): malformed (invalid_json) with the line.
setup() { { records 1; printf '{"id": "e", "content": "bad \\x41 escape"}\n{"id": "f", "content": "bad \\u12G4"}\n'; } > in.jsonl; config in.jsonl; }
cmd=(clean c.yaml); rc=0; err="in.jsonl:2: invalid JSON"
check() { [ "$(summary clean.malformed_by.invalid_json)" = 2 ]; }
