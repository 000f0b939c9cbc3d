# Random bytes named .jsonl: every line malformed; over max_malformed_fraction the exit is 1, and the counts balance.
setup() { head -c 100000 /dev/urandom > in.jsonl; printf 'input:\n  paths: [in.jsonl]\noutput:\n  dir: o\n' > c.yaml; }
cmd=(clean c.yaml); rc=1; err="max_malformed_fraction"
check() { [ "$(summary clean.kept)" = 0 ]; }
