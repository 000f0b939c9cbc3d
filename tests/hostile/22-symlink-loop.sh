# A symlink loop in an input folder: skipped with a note, the real files read.
setup() { mkdir d; records 3 > d/a.jsonl; ln -s loop2 d/loop1; ln -s loop1 d/loop2; ln -s . d/self; config d; }
cmd=(clean c.yaml); rc=0; err="not read"
check() { [ "$(summary clean.read)" = 3 ]; }
