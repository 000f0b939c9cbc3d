"""Damages a safetensors file in place for the hostile cases:
past_end: the last tensor's data ends past the file; overlap: the second
tensor starts inside the first."""
import json, struct, sys

path, how = sys.argv[1], sys.argv[2]
raw = open(path, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
names = sorted((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"][0])
if how == "past_end":
    header[names[-1]]["data_offsets"][1] += 4096
elif how == "overlap":
    a, b = header[names[0]]["data_offsets"], header[names[1]]["data_offsets"]
    b[0] -= 4
    b[1] -= 4
else:
    sys.exit("unknown damage " + how)
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
open(path, "wb").write(struct.pack("<Q", len(h)) + h + raw[8 + n:])
