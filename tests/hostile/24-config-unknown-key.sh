# An unknown key (a typo): exit 2 naming it, not silently ignored.
setup() { records 1 > in.jsonl; printf 'input:\n  paths: [in.jsonl]\nclean:\n  stpes: []\n' > c.yaml; }
cmd=(clean c.yaml); rc=2; err="stpes"
check() { true; }
