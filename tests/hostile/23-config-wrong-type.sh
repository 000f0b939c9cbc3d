# A config value of the wrong type: exit 2, the file, line and key named, before any work.
setup() { records 1 > in.jsonl; printf 'input:\n  paths: [in.jsonl]\nrun:\n  tasks: many\n' > c.yaml; }
cmd=(clean c.yaml); rc=2; err="c.yaml:4"
check() { [ ! -e out ]; }
