# input.max_member_size caps what one member may decompress to.
setup() { records 2000 | zstd -q > in.jsonl.zst; printf "input:\n  paths: [in.jsonl.zst]\n  max_member_size: 64KiB\noutput:\n  dir: o\nrun:\n  max_malformed_fraction: 1\n" > c.yaml; }
cmd=(clean c.yaml); rc=any; err="limit:member_size"
check() { [ "$(summary clean.input_errors_by.\"limit:member_size\")" = 1 ]; }
