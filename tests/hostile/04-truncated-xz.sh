# An xz stream cut short.
setup() { records 300 | xz > full.xz; head -c $(( $(stat -c %s full.xz) - 30 )) full.xz > in.jsonl.xz; rm full.xz; config in.jsonl.xz; }
cmd=(clean c.yaml); rc=any; err="in.jsonl.xz"
check() { [ "$(summary clean.input_errors_by.damaged)" = 1 ]; }
