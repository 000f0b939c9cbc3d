#!/usr/bin/env bash
# `corpusmill embed-text --model hash`: one unit-length row per stdin line
# (zero for an empty line), a .npy that numpy.load reads, text output that
# agrees with it, lexical closeness, and usage errors with exit status 2.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3 # Debian's, with python3-numpy

printf '%s\n' "the cat sat on the mat" "the cat sat on a mat" "stock prices fell sharply today" \
  "北京是中国的首都" "中国的首都是北京" "" "the cat sat on the mat" > in.txt
"$CM" embed-text --model hash --output v.npy < in.txt 2>err || { cat err; fail "embed-text failed"; }
"$CM" embed-text --model hash --dim 64 < in.txt > v.txt
"$CM" embed-text --model hash --dim 64 --query --output v64.npy < in.txt

"$PY" - <<'PYEOF' || fail "the embeddings are not as expected"
import numpy as np
v = np.load("v.npy")
assert v.shape == (7, 512) and v.dtype == np.float32, v.shape
norms = np.linalg.norm(v, axis=1)
assert np.allclose(norms[[0, 1, 2, 3, 4, 6]], 1, atol=1e-5) and norms[5] == 0, norms
assert np.array_equal(v[0], v[6])
cos = v @ v.T
assert cos[0, 1] > 0.5 and cos[0, 2] < 0.3, cos[0]
assert cos[3, 4] > 0.5 and cos[3, 2] < 0.3, cos[3]
t = np.loadtxt("v.txt", dtype=np.float32)
assert np.allclose(t, np.load("v64.npy"), atol=1e-6) and t.shape == (7, 64)
PYEOF

set +e
"$CM" embed-text --model /no/such/model < in.txt > /dev/null 2>err; rc=$?
set -e
assert_eq "$rc" 2 "an unsupported model is a usage error"
assert_file_contains err "/no/such/model" "the error names the model"
set +e
"$CM" embed-text --model hash --dim 0 < in.txt > /dev/null 2>err; rc=$?
set -e
assert_eq "$rc" 2 "--dim 0 is a usage error"
set +e
"$CM" embed-text --model hash --output /no/such/dir/v.npy < in.txt 2>err; rc=$?
set -e
assert_eq "$rc" 2 "an unwritable output is a usage error"
assert_file_contains err "/no/such/dir/v.npy" "the error names the output"
echo ok
